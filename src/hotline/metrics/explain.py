"""``hotline metrics explain``: a call's verdict with its reasons in words (pure).

    v = verdict(record, labels={"labour": "劳动保障"})
    print("\\n".join(v.en))
    # call 1795463379.1: times to the millisecond (ami)
    # entered 劳动保障 (labour) at 2026-11-24 10:02:03.412, answered 17.208 s later by
    #   agent 1007: in R and A, not in A15 (17.208 s > 15.000 s)
    print("\\n".join(v.zh))
    # 2026-11-24 10:02:03.412 进入 劳动保障 (labour)，17.208 秒后由坐席 1007 接听：计入 R、A，
    #   不计入 A15（17.208 秒 > 15.000 秒）

Times are shown in the centre's zone (``Params.tz``, Asia/Shanghai); a record built from
queue_log says "to the second" and shows whole seconds. The caller's number is never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from hotline.core.records import CallRecord, EndReason, Precision, Source
from hotline.metrics.params import Params
from hotline.metrics.populations import REFUSED, Exclusion, Population, Verdict, classify
from hotline.metrics.timefmt import GroupBy, clock, duration, interval_key

__all__ = ["verdict"]


def verdict(
    record: CallRecord,
    *,
    threshold_s: float | int | str = 15,
    short_abandon_s: float | int | str = 0,
    params: Params | None = None,
    labels: Mapping[str, str] | None = None,
    acw_ms: int | None = None,
) -> Verdict:
    """The call's :class:`Verdict` with ``en`` and ``zh`` filled in.

    ``params`` (when given) wins over ``threshold_s``/``short_abandon_s``; ``labels`` maps
    queue names to what the centre calls them (the flow's queue ``label``); ``acw_ms`` the
    after-call work the journal shows after the call's talk (None: not in the journal).
    """
    if params is None:
        params = Params.of(threshold_s=threshold_s, short_abandon_s=short_abandon_s)
    v = classify(record, params)
    words = _Words(record, v, labels or {}, acw_ms)
    return replace(v, en=tuple(words.en), zh=tuple(words.zh))


_EXCLUDED: dict[Exclusion, tuple[str, str]] = {
    Exclusion.OPEN: (
        "no end in the data (still in progress, or the log stops before it ends): "
        "in no population until it ends; counted under data quality",
        "数据中没有结束记录（仍在进行，或日志在结束前中断）：结束前不计入任何人群，列入数据质量统计",
    ),
    Exclusion.VANISHED: (
        "unknown: the controller lost sight of the call (VANISHED) and nothing says how it "
        "ended; excluded from every figure and counted under data quality (importing the "
        "queue_log can complete it)",
        "结局未知：控制器失去了该来电的踪迹（VANISHED）；不计入任何指标，列入数据质量统计"
        "（导入 queue_log 可补全）",
    ),
    Exclusion.NO_REQUEST: (
        "hung up in the menus without asking for a human (IVR_ONLY): not in R",
        "在语音导航中挂机，未请求人工服务（IVR_ONLY）：不计入 R",
    ),
    Exclusion.CLOSED_AT_ENTRY: (
        "out of hours at the entry, before asking for a human: not in R",
        "进线时为非服务时间，尚未请求人工：不计入 R",
    ),
}

_LOSS: dict[str, tuple[str, str]] = {
    EndReason.TIMEOUT.value: (
        "the queue timed out (EXITWITHTIMEOUT)",
        "排队超时（EXITWITHTIMEOUT）",
    ),
    EndReason.LEAVE_EMPTY.value: (
        "every agent left the queue while the caller waited (EXITEMPTY)",
        "等待期间坐席全部离开队列（EXITEMPTY）",
    ),
    EndReason.REFUSED_NO_AGENT.value: (
        "refused at the door: no agent logged in (JOINEMPTY)",
        "无坐席签入，拒绝入队（JOINEMPTY）",
    ),
    EndReason.REFUSED_FULL.value: (
        "refused at the door: the queue was full (FULL)",
        "队列已满，拒绝入队（FULL）",
    ),
    EndReason.WITHDRAWN.value: ("taken out of the queue (WITHDRAW)", "被移出队列（WITHDRAW）"),
    EndReason.FAILED.value: (
        "an agent answered but the channels could not be bridged (SYSCOMPAT)",
        "坐席已应答但通道无法桥接（SYSCOMPAT）",
    ),
    EndReason.CLOSED.value: (
        "sent to the out-of-hours message after asking for a human",
        "请求人工后被转至非服务时间提示",
    ),
    EndReason.PBX_DOWN.value: (
        "cut off by the PBX going down (stopped, restarted or crashed) before an agent "
        "answered; counted apart under data quality (cut_by_pbx)",
        "交换机停止、重启或崩溃导致通话中断，此时尚无坐席接听；另计入数据质量（cut_by_pbx）",
    ),
    EndReason.PBX_LOST.value: (
        "its PBX was lost (the controller's link to it stayed down, no word of the call's "
        "end) before an agent answered: presumed cut when the PBX was last heard; counted "
        "apart under data quality (cut_by_pbx)",
        "交换机失联（控制器与其连接持续中断，无该来电结束的消息），此时尚无坐席接听："
        "按最后一次收到交换机消息的时间视为中断；另计入数据质量（cut_by_pbx）",
    ),
    "JOINEMPTY": (
        "refused at the door: no agent logged in (JOINEMPTY)",
        "无坐席签入，拒绝入队（JOINEMPTY）",
    ),
    "JOINUNAVAIL": (
        "refused at the door: no agent reachable (JOINUNAVAIL)",
        "无可用坐席，拒绝入队（JOINUNAVAIL）",
    ),
    "FULL": ("refused at the door: the queue was full (FULL)", "队列已满，拒绝入队（FULL）"),
    "EXITWITHTIMEOUT": ("the queue timed out (EXITWITHTIMEOUT)", "排队超时（EXITWITHTIMEOUT）"),
    "EXITEMPTY": ("every agent left the queue (EXITEMPTY)", "坐席全部离开队列（EXITEMPTY）"),
}


def _cmp(ms: int, limit: int, precision: Precision) -> tuple[str, str, str]:
    """("≤" or ">", the wait, the limit) as text; the limit always to the ms."""
    sign = "≤" if ms <= limit else ">"
    return sign, duration(ms, precision), duration(limit, Precision.MILLISECOND)


def _zh(text: str) -> str:
    return text.replace(" s", " 秒")


class _Words:
    """Builds the two lists of sentences; one method per part of the story."""

    def __init__(
        self, record: CallRecord, v: Verdict, labels: Mapping[str, str], acw: int | None
    ) -> None:
        self.r, self.v, self.labels, self.acw = record, v, labels, acw
        self.p = v.params
        self.en: list[str] = []
        self.zh: list[str] = []
        self.header()
        if v.excluded is not None:
            self.excluded(v.excluded)
        else:
            self.main()
            self.transfers()
            self.navigation()
            self.interval()
            self.extras()
        if record.notes:
            self.say(
                "record notes: " + "; ".join(record.notes), "记录备注：" + "；".join(record.notes)
            )

    def say(self, en: str, zh: str) -> None:
        self.en.append(en)
        self.zh.append(zh)

    def queue(self, name: str) -> str:
        label = self.labels.get(name)
        return f"{label} ({name})" if label and label != name else name or "?"

    def at(self, ms: int) -> str:
        return clock(ms, self.r.precision, self.p.tz)

    def header(self) -> None:
        r = self.r
        if r.precision is Precision.SECOND:
            self.say(
                f"call {r.call_id}: times to the second ({r.source.value}): waits are whole "
                "seconds, compared with the threshold as such; this affects the figures "
                "measured from its times (A15, Ab15, Ab≤S, nav.*, mean and percentile waits, "
                "talk time), not the counts R, A, Ab and L",
                f"来电 {r.call_id}：时间只精确到秒（{r.source.value}），"
                "等待时长为整秒，按整秒与阈值比较；影响按时长计算的指标"
                "（A15、Ab15、Ab≤S、nav.*、平均及分位等待、通话时长），不影响 R、A、Ab、L 的计数",
            )
        else:
            self.say(
                f"call {r.call_id}: times to the millisecond ({r.source.value})",
                f"来电 {r.call_id}：时间精确到毫秒（{r.source.value}）",
            )
        if r.t_arrival is not None:
            self.say(f"arrived at {self.at(r.t_arrival)}", f"{self.at(r.t_arrival)} 进线")

    def excluded(self, why: Exclusion) -> None:
        if why is Exclusion.INCONSISTENT:
            r = self.r
            if r.t_q is None and r.t_request is None:
                detail = (
                    "asked for a human, with no queue entry and no request time",
                    "无入队与请求时间",
                )
            elif r.t_answer is None:
                detail = ("end reason answered, but no answer time", "结局为接通却无接通时间")
            else:
                detail = ("answered before it entered the queue", "接通时间早于入队时间")
            self.say(
                f"the record contradicts itself ({detail[0]}): excluded, "
                "counted under data quality",
                f"记录自相矛盾（{detail[1]}）：不计入指标，列入数据质量统计",
            )
            return
        en, zh = _EXCLUDED[why]
        self.say(en, zh)

    def main(self) -> None:
        r, v = self.r, self.v
        first = r.visits[0] if r.visits else None
        if first is None:
            t = v.t_interval if v.t_interval is not None else 0
            start_en = f"asked for a human at {self.at(t)}"
            start_zh = f"{self.at(t)} 请求人工服务"
        elif first.outcome in REFUSED or (first.outcome == "CALLBACK" and len(r.visits) == 1):
            start_en = f"asked for {self.queue(first.queue)} at {self.at(first.t_enter)}"
            start_zh = f"{self.at(first.t_enter)} 请求进入 {self.queue(first.queue)}"
        else:
            start_en = f"entered {self.queue(first.queue)} at {self.at(first.t_enter)}"
            start_zh = f"{self.at(first.t_enter)} 进入 {self.queue(first.queue)}"
        wait = v.wait_ms
        if Population.A in v:
            assert wait is not None
            sign, w, lim = _cmp(wait, self.p.threshold_ms, r.precision)
            yes = Population.A15 in v
            self.say(
                f"{start_en}, answered {w} later by agent {v.agent}: in R and A, "
                f"{'in' if yes else 'not in'} A15 ({w} {sign} {lim})",
                f"{start_zh}，{_zh(w)}后由坐席 {v.agent} 接听：计入 R、A，"
                f"{'计入' if yes else '不计入'} A15（{_zh(w)} {sign} {_zh(lim)}）",
            )
            if r.precision is Precision.SECOND and abs(wait - self.p.threshold_ms) < 1000:
                self.say(
                    "the wait is within a second of the threshold: with its lost fraction of a "
                    "second the A15 verdict could go the other way",
                    "等待时长与阈值相差不足 1 秒：计入秒以下部分后，A15 的结论可能相反",
                )
            if r.end_reason is EndReason.PBX_DOWN:
                self.say(
                    "then the PBX went down (stopped, restarted or crashed) and cut the call "
                    "off; counted apart under data quality (cut_by_pbx)",
                    "随后交换机停止、重启或崩溃，通话被中断；另计入数据质量（cut_by_pbx）",
                )
            if r.end_reason is EndReason.PBX_LOST:
                self.say(
                    "then its PBX was lost (the controller's link to it stayed down): the "
                    "call is presumed cut when the PBX was last heard, its true end is "
                    "unknown; counted apart under data quality (cut_by_pbx)",
                    "随后交换机失联（控制器与其连接持续中断）：按最后一次收到交换机消息的时间"
                    "视为中断，实际结束时间未知；另计入数据质量（cut_by_pbx）",
                )
        elif Population.AB in v:
            self.abandon(start_en, start_zh, wait)
        elif Population.L in v:
            en, zh = _LOSS.get(v.lost_by, (v.lost_by, v.lost_by))
            if r.end_reason is EndReason.CALLBACK:
                en = f"{en}, then a callback was registered"
                zh = f"{zh}，随后登记回拨"
            self.say(f"{start_en}; {en}: in R and L", f"{start_zh}；{zh}：计入 R、L")
        else:
            self.say(
                f"{start_en}; chose a callback instead of waiting: in R only "
                "(not answered, not abandoned, not lost)",
                f"{start_zh}；选择回拨而未等待：仅计入 R（非接通、非放弃、非呼损）",
            )
            if r.source is Source.QUEUE_LOG:
                self.say(
                    "(from queue_log alone, a refusal at the door that ended in a callback "
                    "looks the same: then it would be in L too)",
                    "（仅凭 queue_log 无法区分入队被拒后登记的回拨；若属此情形，应同时计入 L）",
                )

    def abandon(self, start_en: str, start_zh: str, wait: int | None) -> None:
        r, v, p = self.r, self.v, self.p
        how_en, how_zh = {
            EndReason.ABANDONED_RINGING: (
                "hung up while an agent's phone rang",
                "在坐席振铃时挂机",
            ),
            EndReason.LEFT_WITH_KEY: ("pressed the key to leave the queue", "按键离开队列"),
        }.get(
            r.end_reason or EndReason.ABANDONED_IN_QUEUE, ("hung up in the queue", "在排队中挂机")
        )
        if wait is None:
            self.say(
                f"{start_en}; the caller left ({how_en}), when is unknown: in R and Ab",
                f"{start_zh}；来电人{how_zh}（时间未知）：计入 R、Ab",
            )
            return
        sign, w, lim = _cmp(wait, p.threshold_ms, r.precision)
        yes = Population.AB15 in v
        en = (
            f"{start_en}; the caller left {w} later ({how_en}): in R and Ab, "
            f"{'in' if yes else 'not in'} Ab≤15 ({w} {sign} {lim})"
        )
        zh = (
            f"{start_zh}；{_zh(w)}后来电人{how_zh}：计入 R、Ab，"
            f"{'计入' if yes else '不计入'} Ab≤15（{_zh(w)} {sign} {_zh(lim)}）"
        )
        if p.short_abandon_ms > 0:
            sign, w, lim = _cmp(wait, p.short_abandon_ms, r.precision)
            if Population.ABS in v:
                en += f"; in Ab≤S ({w} {sign} S = {lim}): left out of the strict denominators"
                zh += f"；计入 Ab≤S（{_zh(w)} {sign} S = {_zh(lim)}）：不计入严格口径分母"
            else:
                en += f"; not in Ab≤S ({w} {sign} S = {lim})"
                zh += f"；不计入 Ab≤S（{_zh(w)} {sign} S = {_zh(lim)}）"
        else:
            en += "; S = 0: no abandon leaves the strict denominators"
            zh += "；S = 0：放弃来电全部保留在严格口径分母中"
        self.say(en, zh)

    def transfers(self) -> None:
        visits = self.r.visits
        if len(visits) < 2:
            return
        rest = ", ".join(
            f"{self.queue(x.queue)} at {self.at(x.t_enter)} ({x.outcome or 'open'})"
            for x in visits[1:]
        )
        rest_zh = "，".join(
            f"{self.at(x.t_enter)} {self.queue(x.queue)}（{x.outcome or '未结束'}）"
            for x in visits[1:]
        )
        first = self.queue(visits[0].queue)
        self.say(
            f"then {rest}: one call, counted once, in {first} (its first queue), "
            "every wait from its first entry",
            f"其后：{rest_zh}：同一来电只计一次，计入首个队列 {first}，等待时长均从首次入队起算",
        )

    def navigation(self) -> None:
        r, v, p = self.r, self.v, self.p
        if r.t_arrival is None:
            self.say(
                "含导航语音: the arrival time is unknown (no IVR events in the record): "
                "not in the navigation-inclusive figures",
                "含导航语音：进线时间未知（记录中无语音导航事件）：不计入含导航语音口径",
            )
            return
        wait = v.nav_wait_ms
        if wait is None or not ({Population.A, Population.AB} & v.populations):
            self.say("含导航语音: in nav.R", "含导航语音：计入 nav.R")
            return
        sign, w, lim = _cmp(wait, p.threshold_ms, r.precision)
        if Population.A in v:
            yes = Population.NAV_A15 in v
            self.say(
                f"含导航语音: answered {w} after arrival: {'in' if yes else 'not in'} nav.A15 "
                f"({w} {sign} {lim})",
                f"含导航语音：进线 {_zh(w)}后接听：{'计入' if yes else '不计入'} nav.A15"
                f"（{_zh(w)} {sign} {_zh(lim)}）",
            )
        else:
            yes = Population.NAV_AB15 in v
            self.say(
                f"含导航语音: left {w} after arrival: {'in' if yes else 'not in'} nav.Ab≤15",
                f"含导航语音：进线 {_zh(w)}后放弃：{'计入' if yes else '不计入'} nav.Ab≤15",
            )

    def interval(self) -> None:
        t = self.v.t_interval
        if t is None:
            return
        hour = interval_key(t, GroupBy.HOUR, self.p.tz)
        self.say(
            f"counted in the hour {hour} and the day {hour[:10]} ({self.p.tz}), by its first "
            "queue entry",
            f"按首次入队时间计入 {hour} 时段、{hour[:10]} 日（{self.p.tz}）",
        )

    def extras(self) -> None:
        r, v = self.r, self.v
        if v.talk_ms is not None and self.acw is not None:
            talk = duration(v.talk_ms, r.precision)
            acw = duration(self.acw, Precision.MILLISECOND)
            aht = duration(v.talk_ms + self.acw, r.precision)
            self.say(
                f"talked {talk}, then {acw} of after-call work (journal): handling time {aht}",
                f"通话 {_zh(talk)}，话后整理 {_zh(acw)}（坐席日志）：处理时长 {_zh(aht)}",
            )
        elif v.talk_ms is not None:
            talk = duration(v.talk_ms, r.precision)
            self.say(
                f"talked {talk}; the agent journal has no end of this talk: outside AHT",
                f"通话 {_zh(talk)}；坐席日志中无此通话的结束记录：不计入 AHT",
            )
        if r.callback_number:
            self.say("asked to be called back", "登记了回拨")
        if r.survey_score is not None:
            self.say(
                f"survey score {r.survey_score} of 5", f"满意度评价 {r.survey_score} 分（满分 5）"
            )
