"""The one exception type a user ever sees as a message instead of a traceback."""


class FormcheckError(Exception):
    """A problem with the user's input or environment, explained in one line."""
