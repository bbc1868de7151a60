"""Work orders handled: the one service the CLI (``hotline orders``) and the web pages call.

:class:`~hotline.casework.desk.Desk` checks who acts (an :class:`~hotline.orders.model.Actor`
made from a signed-in user by :func:`hotline.web.roles.order_actor`), applies the step through
the pure state machine (:mod:`hotline.orders.machine`) and appends it to the hash-chained
journal (:class:`~hotline.stores.orders.OrderStore`). :mod:`~hotline.casework.views` turns
orders, findings and figures into rows and documents, citizens' numbers masked.
"""
