"""Graders: free text by key points, structure and guards (code: hidden tests in the sandbox)."""

from bot.grading.base import Band, Grade, Grader
from bot.grading.sentences import split_sentences
from bot.grading.text import KeyPointMatcher

__all__ = ["Band", "Grade", "Grader", "KeyPointMatcher", "split_sentences"]
