"""Work orders (工单): what happens after the call, pure.

An order is taken on a call (受理), dispatched to a department (派单), signed for (签收),
answered (答复), and closed (办结) only after the centre reviews the department's request; the
citizen is then asked whether it was solved and how it was handled (回访, 评价). Every step is
an :class:`~hotline.orders.model.Entry` in a journal; an order is the fold of its entries.

    model       the order, its entries, types and states
    machine     the table of allowed transitions and :func:`~hotline.orders.machine.apply`
    workdays    限时办结: deadlines in working days and hours, holidays and 调休
    duplicates  possible duplicates of a new order
    rules       bounce findings over the journal, each with the order's timeline
    figures     department figures per month, each explainable order by order
    config      the ``orders:`` section of center.yaml
"""
