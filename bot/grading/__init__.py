"""Graders: free text by key-point coverage (code is graded by hidden tests in the sandbox)."""

from bot.grading.base import Band, Grade, Grader
from bot.grading.text import KeyPointGrader, split_sentences

__all__ = ["Band", "Grade", "Grader", "KeyPointGrader", "split_sentences"]
