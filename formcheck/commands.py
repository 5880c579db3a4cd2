"""Registration point for the analysis front ends (analyze, live, batch, ...)."""


def register(sub) -> None:
    return None
