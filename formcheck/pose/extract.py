"""A video file -> its PoseTrack: from the cache, else a pose run (one
process, or time chunks on every core), turned upright when the lifter lies
sideways in the picture."""

from __future__ import annotations

from pathlib import Path

from formcheck.errors import FormcheckError
from formcheck.log import log, note
from formcheck.media.files import file_state
from formcheck.media.model import file_sha256, resolve_model
from formcheck.media.video import VideoSource
from formcheck.pose import orientation
from formcheck.pose.backend import backend_for
from formcheck.pose.cache import cache_dir, cache_key, check_cached
from formcheck.pose.run import READ_CHECKS, NotUpright, PoseSettings, run_pose, search_level
from formcheck.pose.track import PoseTrack


def require_person(track: PoseTrack, name: str) -> None:
    """A clip in which nobody was found is bad input, not an empty success."""
    if track.frames == 0 or not track.detected.any():
        raise FormcheckError(f"no person found in {name}: nobody was detected in any of its {track.frames} "
                             "frames (film the whole body, well lit)")


def _pose_run(video: Path, model_path: Path, settings: PoseSettings, quiet: bool, backend,
              workers: int = 1) -> PoseTrack:
    """One pose run, with the orientation fixed when the lifter lies sideways.

    The run starts in the file's own orientation. When its first frames show
    a person lying (or the clip shows nobody at all), each quarter turn is
    tried on a few frames sampled over the clip, with a model of its own, and
    the whole clip is run again turned the way that shows the person upright;
    timestamps stay the file's. When no turn does, a lying person is an error
    and an empty clip stays empty.

    Without a caller's `backend` and with more than one worker, the clip is
    cut in time chunks run on that many cores (pose.chunks)."""
    def fresh():  # chunk workers take one core each; a run in this process alone takes them all
        return backend_for(settings, model_path, threads=1 if runner is not None else workers)

    runner = None
    if backend is None and workers > 1:
        from formcheck.pose import chunks

        runner = chunks.runner_for(video, model_path, settings, workers)

    search = search_level(video, settings, model_path)

    def run(turn: int, check: bool, use) -> PoseTrack:
        if runner is not None:
            track = runner.run(video, turn, use, check, quiet, search)
        else:
            with VideoSource(video, turn=turn) as source:
                track = run_pose(source, use, settings, quiet=quiet, check_upright=check, search=search)
        if search:
            track.meta["search"] = search  # searched past the detector's first answer (pose.blazepose)
        return track

    try:
        return _turned_run(video, settings, backend, fresh, run, model_path)
    finally:
        if runner is not None:
            runner.close()


def _turned_run(video: Path, settings: PoseSettings, backend, fresh, run, model_path: Path) -> PoseTrack:
    own = backend is None
    first = fresh() if own else backend
    try:
        try:
            track = run(0, True, first)
            if track.detected.any():
                return track
            lying = False
        except NotUpright:
            track, lying = None, True
    finally:
        if own:
            first.close()
    turn, _ = orientation.choose_turn(str(video), lambda: backend_for(settings, model_path, masks=False))
    if turn is None:
        if lying:
            raise FormcheckError(f"the person in {video} is not upright in any orientation of the picture "
                                 "(tried all four quarter turns): film the lifter standing, whole body in view")
        return track  # nobody in any orientation: the caller reports no person
    if turn == 0 and not lying:
        return track
    # The model that saw the first frames has a clock past them: VIDEO mode
    # needs increasing timestamps, so the second run gets a fresh one unless
    # the caller's backend restarts its clock per clip (pose.backend.ReusedBackend).
    restartable = not own and hasattr(backend, "next_clip")
    if restartable:
        backend.next_clip()
    second = backend if restartable else fresh()
    try:
        return run(turn, False, second)
    finally:
        if not restartable:
            second.close()


def _cached_track(cached: Path, video: Path) -> PoseTrack | None:
    """The cached track of `video`, or None. A damaged entry, or one whose
    frames do not fit the video, is removed and counts as a miss."""
    if not cached.is_file():
        return None
    try:
        track = PoseTrack.load(cached)
        with VideoSource(video, turn=track.meta.get("turn", 0)) as source:
            fits = (track.width, track.height) == (source.width, source.height) and (
                not source.stated_s or track.frames == 0 or float(track.t[-1]) <= source.stated_s + 1.0)
        if fits:
            return track
        why = "its frames do not fit the video"
    except FormcheckError as exc:
        why = str(exc).split(": ", 1)[0]
    cached.unlink(missing_ok=True)
    note(f"a cached pose track of {video.name} was unusable ({why}): removed, the video is read again")
    return None


def extract_track(
    video: str | Path,
    model: str | Path | None = None,
    settings: PoseSettings = PoseSettings(),
    use_cache: bool = True,
    quiet: bool = False,
    backend=None,
    warn: bool = True,
    workers: int | None = None,
) -> PoseTrack:
    """Pose track of a video, from the cache when the same video, model and
    settings were seen before. `backend` lets a caller supply the model (a
    test counting inference calls, a batch worker); it must match `settings`,
    and a VIDEO-mode model carries tracking state and a clock from clip to
    clip, which pose.backend.ReusedBackend takes care of. With `warn`, what
    the user must know about how the video was read (a truncated file, a
    turned picture) goes to stderr; it is in the track's meta either way.
    `workers` is how many cores one clip's inference may use (default: all
    this process may run on); a caller's `backend` means one. The track is
    the same either way (pose.chunks)."""
    video = Path(video)
    model_path = resolve_model(model)
    cached = track = None
    if use_cache and video.is_file():  # a hit decodes one frame, to check the track fits the video
        before = file_state(video)  # the key is the content as it is now
        cached = cache_dir() / f"{cache_key(video, model_path, settings)}.npz"
        track = _cached_track(cached, video)
    if track is not None and READ_CHECKS not in track.meta:
        track = check_cached(track, video, cached)
    if track is not None:
        track.source = str(video)
    else:
        VideoSource(video).close()  # a bad path is explained before any model is loaded
        if workers is None:
            from formcheck.pose.chunks import default_workers

            workers = default_workers()
        track = _pose_run(video, model_path, settings, quiet, backend, workers)
        track.meta["model_sha256"] = file_sha256(str(model_path))
        if cached is not None and file_state(video) != before:
            log.warning("%s changed while it was read (its size or time stamp moved): the result may not match "
                        "the file as it is now, and its pose track was not cached", video)
        elif cached is not None:
            try:
                track.save(cached)
            except FormcheckError as exc:  # the cache is a convenience: never lose the result to it
                log.warning("pose track not cached (%s)", exc)
    if warn:
        for kind, text in track.reading_notes():
            log.warning(text) if kind == "warning" else note(text)
    return track
