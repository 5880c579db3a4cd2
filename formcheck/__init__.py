"""formcheck: squat form analysis from video.

The pipeline runs media -> pose -> kinematics -> coach -> outputs, one folder
each (docs/architecture.md); `formcheck.analyze` wires it, the front ends and
cli/ sit on top. The root holds only what every floor shares: the version,
errors and the logger.
"""

__version__ = "0.1.0"
