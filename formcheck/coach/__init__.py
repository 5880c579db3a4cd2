"""The judgement and the words: fault specifications and their config,
findings, advice, the coaching text, red-flag symptoms. May import the
kinematics core; no media, no pose model, no outputs."""
