"""The Azure ML emulator's batch scoring: a driver that runs a batch deployment's scoring script
under Azure ML's batch contract (see :mod:`.driver`)."""

from .driver import ErrorThresholdExceeded, Settings, Summary, main, score

__all__ = ["ErrorThresholdExceeded", "Settings", "Summary", "main", "score"]
