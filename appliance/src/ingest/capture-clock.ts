// When a live frame was captured, so that lag (capture → analysis) is visible. ffmpeg's fps filter
// emits frames on an exact grid (frame n at start + n / fps of stream time), so a frame that reaches
// us later than the grid says has waited somewhere on the way: in the camera's TCP buffer while ffmpeg
// was starved of CPU, or in the pipe while node did not read. Arrival time alone hides both.
// The grid is anchored at the earliest arrival seen (a frame cannot arrive before it was captured), so a
// slow start or a camera clock a little slower than ours never reads as lag. A camera clock a little
// faster than ours would read as slowly growing lag (50 ppm: 4 s a day), so the anchor may also creep
// later, by at most 1 ms per second of stream: 20x any real clock drift, far slower than a real backlog grows.
export const MAX_CREEP = 0.001;

export class CaptureClock {
  private anchorMs: number | null = null;
  private lastN = 0;

  constructor(private readonly fps: number) {}

  /** Capture time (ms since epoch) of the n-th frame of this ffmpeg session, read at arrivalMs. */
  stamp(n: number, arrivalMs: number): number {
    const onGrid = (n * 1000) / this.fps;
    const anchor = arrivalMs - onGrid;
    if (this.anchorMs === null || anchor < this.anchorMs) this.anchorMs = anchor;
    else this.anchorMs = Math.min(anchor, this.anchorMs + (((n - this.lastN) * 1000) / this.fps) * MAX_CREEP);
    this.lastN = n;
    return Math.round(this.anchorMs + onGrid);
  }

  /** A new ffmpeg session (reconnect): the grid starts again. */
  reset(): void {
    this.anchorMs = null;
    this.lastN = 0;
  }
}
