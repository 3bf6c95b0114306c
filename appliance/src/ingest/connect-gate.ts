// At most N cameras connect at once. A camera that cannot connect holds an ffmpeg process for the
// whole socket timeout; without a bound, 60 dead cameras held 30 ffmpeg processes (1.4 GB) between
// them. Cameras past the bound wait in backoff with no process; a slot frees when a camera streams,
// its ffmpeg exits, or it stops. First come, first served, so no camera starves.

export class ConnectGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private limit: number) {}

  setLimit(limit: number): void {
    this.limit = limit;
    this.drain();
  }

  /** Runs `go` now or when a slot frees; returns the release (idempotent) and a cancel for the wait. */
  acquire(go: (release: () => void) => void): () => void {
    let granted = false;
    let released = false;
    const release = () => {
      if (!granted || released) return;
      released = true;
      this.active--;
      this.drain();
    };
    const grant = () => {
      granted = true;
      this.active++;
      go(release);
    };
    if (this.active < this.limit && this.waiting.length === 0) {
      grant();
      return release;
    }
    this.waiting.push(grant);
    return () => {
      const i = this.waiting.indexOf(grant);
      if (i >= 0) this.waiting.splice(i, 1);
      release();
    };
  }

  get connecting(): number {
    return this.active;
  }

  private drain(): void {
    while (this.active < this.limit && this.waiting.length > 0) this.waiting.shift()!();
  }
}
