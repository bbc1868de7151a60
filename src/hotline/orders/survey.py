"""The 回访 call's answers as an order's 评价 (pure).

The IVR asks two questions on the call (the flow's ``visit:`` prompts): resolved, 1 yes or
2 no; then a rating from 5 (very satisfied) to 1 (very dissatisfied), which the centre's
three-level 评价 reads as 5 and 4 满意, 3 基本满意, 2 and 1 不满意.

    answer = survey_answer("1", "4")     # Answer(resolved=True, rating=Rating.SATISFIED, ...)
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.orders.model import Rating

__all__ = ["Answer", "survey_answer"]

RATINGS = {"5": Rating.SATISFIED, "4": Rating.SATISFIED, "3": Rating.FAIRLY,
           "2": Rating.DISSATISFIED, "1": Rating.DISSATISFIED}  # fmt: skip
RESOLVED = {"1": True, "2": False}


@dataclass(frozen=True, slots=True)
class Answer:
    resolved: bool
    rating: Rating
    score: int  # the digit pressed, 1-5

    def text(self) -> str:
        """How the journal says it: who answered, and the keys pressed."""
        said = "已解决" if self.resolved else "未解决"
        return f"回访电话（按键）：{said}，评分 {self.score}/5（{self.rating.value}）"


def survey_answer(resolved: str, rating: str) -> Answer | None:
    """The citizen's answers, or None when either question went unanswered (no key, or a
    key the question does not offer): nothing is recorded for a half-answered survey."""
    if resolved not in RESOLVED or rating not in RATINGS:
        return None
    return Answer(RESOLVED[resolved], RATINGS[rating], int(rating))
