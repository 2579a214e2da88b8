"""What a front end needs to build an assessment form: the questions the models ask, grouped for
the form, and the conversion between the form's flat answers and the nested assessment."""

from engine.knowledge.questions import Question, flatten, nest, questions

__all__ = ["Question", "flatten", "nest", "questions"]
