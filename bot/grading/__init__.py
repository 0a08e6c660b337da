"""Graders: free text by key points, structure and guards (code: hidden tests in the sandbox)."""

from bot.grading.base import Band, Grade, Grader
from bot.grading.text import KeyPointMatcher, split_sentences

__all__ = ["Band", "Grade", "Grader", "KeyPointMatcher", "split_sentences"]
