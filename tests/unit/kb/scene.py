"""A small knowledge base of a 12345 centre, with realistic answers (shared by the tests)."""

from __future__ import annotations

from hotline.kb.model import Answer, Content, Version, check, summary

T0 = 1_796_000_000_000  # 2026-12-01, about

CONTENTS = {
    1: Content(
        "欠薪", "农民工工资被拖欠怎么办",
        "可向项目所在地人力资源和社会保障局劳动保障监察大队投诉，也可拨打12345登记，"
        "我们将转交劳动监察部门在5个工作日内联系您。请准备劳动合同、考勤记录、工资条。",
        tags=("欠薪", "农民工", "劳动监察"), serves=("unpaid-wages", "main:2>labour"),
    ),
    2: Content(
        "欠薪", "申请劳动仲裁的条件",
        "劳动争议申请仲裁的时效期间为一年。向劳动人事争议仲裁委员会提交仲裁申请书和证据。",
        tags=("劳动仲裁",), serves=("main:2>labour>arbitration",),
    ),
    3: Content(
        "物业", "物业服务投诉受理范围",
        "小区物业不履行服务合同、乱收物业费、公共区域卫生差，可向住建局物业科投诉。",
        tags=("物业", "物业费"), serves=("property",),
    ),
    4: Content(
        "噪声", "夜间施工噪声扰民",
        "夜间22点至次日6点禁止产生噪声的建筑施工作业，抢修除外。可向生态环境局举报，"
        "我们转交城管和环保部门处理。",
        tags=("噪声", "施工"), serves=("noise",),
    ),
    5: Content(
        "供水", "停水通知查询",
        "计划停水会提前24小时在自来水公司官网和小区公告栏通知。突发停水请拨打供水热线96116。",
        tags=("停水", "供水"), serves=("water",),
    ),
    6: Content(
        "社保", "社保卡补办流程",
        "携带身份证到任一社保卡服务网点办理补卡，工本费20元，一般7个工作日内制卡完成。",
        tags=("社保卡",), serves=("social-insurance",),
    ),
}  # fmt: skip


def answer(id_: int, content: Content | None = None, *edits: Content) -> Answer:
    c = check(content or CONTENTS[id_])
    versions = [Version(id_, 1, c, "banzhang01", T0, summary(None, c))]
    for n, e in enumerate(edits, start=2):
        e = check(e)
        versions.append(Version(id_, n, e, "banzhang01", T0 + n, summary(versions[-1].content, e)))
    return Answer(id_, tuple(versions))


def answers() -> list[Answer]:
    return [answer(i) for i in CONTENTS]
