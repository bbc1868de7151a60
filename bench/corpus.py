"""A deterministic synthetic corpus of 12345 hotline transcripts (Chinese with some English
and digits), for bench/search.py.

Each leg is 16–48 phrases drawn with Zipf-like weights from hotline vocabulary (the common
words of speech are common here too), written as Whisper does: no spaces between Chinese
words, so a plain ``LIKE`` scan and the index mean the same thing and their counts can be
compared. Digits appear as house numbers, amounts and the odd phone number.
"""

from __future__ import annotations

import random
from collections.abc import Iterator


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


COMMON = _words(
    """
    的 了 是 我 你 您 我们 你们 他们 这个 那个 就是 然后 一下 现在 已经 还是 没有 不是 可以
    怎么 什么 时候 问题 处理 反映 情况 一直 还有 因为 所以 但是 如果 麻烦 谢谢 好的 嗯 对 行
    请问 知道 需要 我想 能不能 帮忙 联系 登记 记录 转交 回复 尽快 工作日 内
    """
)
TOPICS = _words(
    """
    物业 噪音 小区 停车 拖欠工资 欠薪 供暖 暖气 垃圾 施工 扰民 投诉 举报 城管 社保 医保 公积金
    户口 学区 违章建筑 漏水 电梯 燃气 停水 停电 路灯 井盖 占道经营 噪声 装修 宠物 外卖 快递
    出租车 网约车 地铁 公交 房租 押金 中介 退费 培训机构 食品安全 过期 药店 医院 挂号 疫苗
    养老金 低保 残疾证 营业执照 税务 发票 农民工 包工头 工地 老板 合同 劳动仲裁 派出所 交警
    红绿灯 违停 共享单车 绿化 树木 污水 下水道 异味 油烟 烧烤 广场舞 空调外机 加装电梯 业委会
    维修基金 开发商 延期交房 产权证 拆迁 补偿 学校 幼儿园 校车 食堂
    """
)
PLACES = _words(
    """
    街道 社区 区 路 号楼 单元 室 小区门口 东门 西门 南门 北门 楼下 楼上 隔壁 对面 地下车库
    朝阳区 海淀区 丰台区 东城区 西城区 通州区 昌平区 大兴区
    """
)
ENGLISH = _words(
    """
    APP WiFi OK email Wechat QR code online hotline noise refund order service
    """
)
GREETINGS = (
    "您好12345政务服务便民热线很高兴为您服务",
    "您好请讲",
    "请问有什么可以帮您",
    "好的我这边给您记录一下",
    "感谢您的来电再见",
)


def _weights(n: int) -> list[float]:
    return [1.0 / (i + 1) ** 0.9 for i in range(n)]


_W_COMMON = _weights(len(COMMON))
_W_TOPICS = _weights(len(TOPICS))
_W_PLACES = _weights(len(PLACES))


def _phrase(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return rng.choices(COMMON, _W_COMMON)[0]
    if roll < 0.80:
        return rng.choices(TOPICS, _W_TOPICS)[0]
    if roll < 0.90:
        place = rng.choices(PLACES, _W_PLACES)[0]
        return f"{rng.randint(1, 30)}{place}" if rng.random() < 0.5 else place
    if roll < 0.96:
        return " " + rng.choice(ENGLISH) + " "
    if roll < 0.99:
        return str(rng.randint(1, 2000)) + rng.choice(("元", "块", "天", "个月", "号"))
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def transcripts(n: int, seed: int = 12345) -> Iterator[tuple[str, str, str]]:
    """N legs as (call_id, leg, text): the caller's and the agent's of N/2 calls."""
    rng = random.Random(seed)
    for i in range(n):
        call_id = f"{1_795_000_000 + i // 2}.{i // 2}"
        leg = "rx" if i % 2 == 0 else "tx"
        parts = [rng.choice(GREETINGS)] if leg == "tx" and rng.random() < 0.5 else []
        parts += [_phrase(rng) for _ in range(rng.randint(16, 48))]
        text = "".join(parts).strip().replace("  ", " ")
        yield call_id, leg, text
