"""The interface's words in Chinese (the default) and English (pure).

text("login.title", "en")                  # "Sign in"
text("login.throttled", "zh", seconds=30)  # "尝试过多，请 30 秒后再试"
texts("board.", "zh")                      # every board.* text, for the page's script
"""

from __future__ import annotations

LANGS = ("zh", "en")

TEXTS: dict[str, tuple[str, str]] = {
    "app": ("12345 热线", "12345 hotline"),
    "login.title": ("登录", "Sign in"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.wrong": ("用户名或密码错误", "Wrong user name or password"),
    "login.expired": ("页面已过期，请重新登录", "The page expired; please sign in again"),
    "login.throttled": ("尝试过多，请 {seconds} 秒后再试", "Too many tries; wait {seconds} s"),
    "logout": ("退出", "Sign out"),
    "lang.switch": ("English", "中文"),
    "forbidden": ("无权访问此页面", "You may not use this page"),
    "error": ("出错了", "Something went wrong"),
    "no_controller": (
        "控制器未响应（hotline controller 是否在运行？）",
        "The controller did not answer (is `hotline controller` running?)",
    ),
    "unknown_agent": ("未知坐席", "Unknown agent"),
    "not_in_scope": ("该坐席不在您的管辖范围内", "That agent is not in your scope"),
    "nav.wallboard": ("监控大屏", "Wallboard"),
    "nav.me": ("我的状态", "My status"),
    "nav.search": ("录音检索", "Search"),
    "nav.users": ("账号管理", "Accounts"),
    "nav.access": ("访问日志", "Access log"),
    "role.admin": ("管理员", "admin"),
    "role.supervisor": ("班长", "supervisor"),
    "role.auditor": ("质检", "auditor"),
    "role.agent": ("话务员", "agent"),
    # statuses (AgentStatus values)
    "st.logged_out": ("签出", "logged out"),
    "st.ready": ("示闲", "ready"),
    "st.ringing": ("振铃", "ringing"),
    "st.talking": ("通话", "talking"),
    "st.wrap_up": ("话后整理", "wrap-up"),
    "st.busy": ("示忙", "busy"),
    "st.break": ("小休", "break"),
    "st.forced_busy": ("强制示忙", "forced busy"),
    "st.unavailable": ("话机不可用", "phone unavailable"),
    # charts
    "chart.hourly": ("每小时来电与15秒接通率", "Calls per hour and the 15 s rate"),
    "chart.requests": ("人工请求", "asked for a human"),
    "chart.answered": ("已接通", "answered"),
    "chart.abandoned": ("放弃", "abandoned"),
    "chart.rate": ("15秒接通率", "15 s rate"),
    "chart.waits": ("等待时长分布（今日）", "How long callers waited (today)"),
    "chart.timeline": (
        "坐席状态与排队来电（近2小时内）",
        "Agent states against waiting callers (last 2 h)",
    ),
    "chart.waiting": ("排队", "waiting"),
    # the wallboard's script (board.*)
    "board.title": ("监控大屏", "Wallboard"),
    "board.queues": ("队列", "Queues"),
    "board.agents": ("坐席", "Agents"),
    "board.alerts": ("告警", "Alerts"),
    "board.waiting": ("排队中", "waiting"),
    "board.longest": ("最长等待", "longest wait"),
    "board.sl_strict": ("15秒接通率", "15 s rate (strict)"),
    "board.answer_rate": ("人工接通率", "answer rate"),
    "board.sl_answered_only": ("仅计已接通", "answered-only"),
    "board.sl2": ("SL2", "SL2"),
    "board.abandoned": ("放弃", "abandoned"),
    "board.requests": ("人工请求", "requests"),
    "board.agent": ("坐席", "agent"),
    "board.team": ("班组", "team"),
    "board.state": ("状态", "state"),
    "board.reason": ("原因", "reason"),
    "board.for": ("持续", "for"),
    "board.queues_of": ("队列", "queues"),
    "board.actions": ("操作", "actions"),
    "board.force": ("强制示忙", "force busy"),
    "board.unpause": ("示闲", "unpause"),
    "board.logout": ("签出", "log out"),
    "board.ack": ("确认", "acknowledge"),
    "board.close": ("关闭", "close"),
    "board.comment": ("处理意见（必填）", "comment (required)"),
    "board.no_alerts": ("暂无告警", "no open alerts"),
    "board.live": ("实时", "live"),
    "board.reconnecting": ("重新连接中…", "reconnecting…"),
    "board.down": ("实时数据不可用", "live data unavailable"),
    "board.notice": ("IVR 公告", "IVR announcement"),
    "board.notice_off": ("关闭公告", "no announcement"),
    "board.set_notice": ("切换", "switch"),
    "board.today": ("今日", "today"),
    "board.cost": ("影响来电", "calls affected"),
    "board.since": ("开始", "since"),
    "board.none": ("无", "none"),
    "board.state_open": ("待处理", "open"),
    "board.state_acknowledged": ("已确认", "acknowledged"),
    "board.state_closed": ("已关闭", "closed"),
    "alert.comment_required": ("请填写处理意见", "A comment is required"),
    "alert.comment_long": ("处理意见过长（最多500字）", "The comment is too long (500 at most)"),
    "alert.unknown": ("未知告警", "Unknown alert"),
    "notice.unknown": ("流程中没有该公告", "The flow has no such announcement"),
    "board.notice_now": ("当前公告", "announcement now"),
    "board.notes": ("督办提醒", "escalation notes"),
    # the agent page
    "agent.title": ("我的状态", "My status"),
    "agent.unknown": (
        "账号关联的分机 {ext} 不在中心配置中",
        "Extension {ext} is not in the centre's config",
    ),
    "agent.bad_reason": ("未知的示忙原因", "Unknown pause reason"),
    "agent.login": ("签入", "Log in"),
    "agent.logout": ("签出", "Log out"),
    "agent.pause": ("示忙", "Pause"),
    "agent.unpause": ("示闲", "Ready"),
    "agent.reason": ("原因", "Reason"),
    "agent.budget": ("本班次示忙额度", "Pause budget this shift"),
    "agent.busy_used": ("示忙已用", "busy used"),
    "agent.break_used": ("休息已用", "breaks used"),
    "agent.of": ("上限", "of"),
    "agent.episode": ("单次示忙上限", "one busy episode at most"),
    "agent.shift": ("班次", "shift"),
    "agent.not_logged_in": ("未签入", "not logged in"),
    # the auditor
    "audit.purpose": ("用途（案件/工单号）", "Purpose (case / ticket number)"),
    "audit.set_purpose": ("设定", "set"),
    "audit.purpose_now": ("当前用途", "purpose now"),
    "audit.no_purpose": (
        "检索、查看与播放前须先填写用途（工单号），每次访问均记入审计日志",
        "Give a purpose (ticket number) first: every search, view and "
        "playback is written to the access log",
    ),
    "audit.bad_purpose": (
        "用途须为3-64位的工单号（字母、数字、- / # . :）",
        "A purpose is a ticket number of 3-64 letters, digits, - / # . :",
    ),
    "audit.no_call": ("没有这通来电", "No such call"),
    "audit.may_not_unmask": (
        "您的账号无权查看未脱敏信息",
        "Your account may not unmask personal data",
    ),
    "audit.no_redaction": (
        "转写文本需先脱敏（身份证、手机号、银行卡）才能显示；本版本缺少脱敏模块，文本不予显示",
        "Transcripts are shown only with ID, mobile and card numbers masked; this "
        "build lacks the masking module, so the text is withheld",
    ),
    "audit.call": ("来电", "Call"),
    "audit.export": ("导出（将记入审计日志）", "Export (written to the access log)"),
    "audit.caller": ("来电号码", "Caller"),
    "audit.queue": ("队列", "Queue"),
    "audit.agent": ("坐席", "Agent"),
    "audit.arrival": ("来电时间", "Arrived"),
    "audit.answer": ("接通时间", "Answered"),
    "audit.end": ("结束", "Ended"),
    "audit.end_reason": ("结束原因", "End"),
    "audit.ivr": ("语音导航路径", "IVR path"),
    "audit.verdict": ("指标判定", "Metric verdict"),
    "audit.legs": ("录音", "Recordings"),
    "audit.leg.rx": ("市民", "Caller"),
    "audit.leg.tx": ("坐席", "Agent"),
    "audit.unmask": ("查看未脱敏信息（将记入审计日志）", "Unmask (written to the access log)"),
    "audit.unmasked": ("未脱敏显示，本次访问已记录", "Shown unmasked; this access is logged"),
    "audit.sha": ("SHA-256 校验后播放", "played after its SHA-256 check"),
    # admin
    "admin.users": ("账号", "Accounts"),
    "admin.add": ("新建账号", "New account"),
    "admin.role": ("角色", "Role"),
    "admin.scope": ("范围", "Scope"),
    "admin.teams": ("班组（逗号分隔）", "teams (comma-separated)"),
    "admin.queues": ("队列（逗号分隔）", "queues (comma-separated)"),
    "admin.all": ("全部", "everything"),
    "admin.agent": ("分机（话务员）", "extension (agents)"),
    "admin.unmask": ("可查看未脱敏信息", "may unmask personal data"),
    "admin.disable": ("停用", "disable"),
    "admin.enable": ("启用", "enable"),
    "admin.disabled": ("已停用", "disabled"),
    "admin.set_password": ("重设密码", "set password"),
    "admin.create": ("创建", "create"),
    "admin.not_self": ("不能停用自己的账号", "You cannot disable your own account"),
}


def text(key: str, lang: str, **values: object) -> str:
    """The text of ``key`` in ``lang`` (Chinese when it has no translation; the key if unknown)."""
    pair = TEXTS.get(key)
    if pair is None:
        return key
    out = pair[1] if lang == "en" else pair[0]
    return out.format(**values) if values else out


def texts(prefix: str, lang: str) -> dict[str, str]:
    return {k[len(prefix) :]: text(k, lang) for k in TEXTS if k.startswith(prefix)}
