// What a track has shown of being real traffic. The shipped detector runs at a low score threshold so
// that faint, distant vehicles are counted; the price is faint boxes on things that are not vehicles
// at all (a tree's shadow on the carriageway, a sign, a road marking), which never move. Data that a
// vehicle merely *being there* produces (loop occupancy, incidents) needs evidence beyond one faint box:
// a confident detection once, or travel. Counting lines ask it too: a faint static box whose height
// flickers swings its bottom edge over a line without going anywhere (analytics/counting-line.ts).
import type { Point } from '../core/types.js';

interface Seen {
  peakScore: number;
  birth: Point;
  moved: boolean;
}

export class TrackEvidence {
  private readonly seen = new Map<number, Seen>();

  /** A confident detection: what the incident rules require (incidents.minEvidenceScore). */
  constructor(private readonly minScore: number) {}

  /** One confirmed observation: best score so far, and whether the ground point has left its birth place. */
  observe(id: number, score: number, anchorPx: Point, boxHeightPx: number): void {
    const s = this.seen.get(id);
    if (!s) {
      this.seen.set(id, { peakScore: score, birth: anchorPx, moved: false });
      return;
    }
    s.peakScore = Math.max(s.peakScore, score);
    // One box height: more than a static false box's jitter (its height itself varies by a third).
    if (!s.moved && Math.hypot(anchorPx.x - s.birth.x, anchorPx.y - s.birth.y) >= boxHeightPx) s.moved = true;
  }

  /** Seen with a confident detection at least once. */
  confident(id: number): boolean {
    return (this.seen.get(id)?.peakScore ?? 0) >= this.minScore;
  }

  /** Its ground point has left its birth place by a box height. */
  travelled(id: number): boolean {
    return this.seen.get(id)?.moved ?? false;
  }

  /** Confident, or travelled: a vehicle, not a faint box on the background. */
  isTraffic(id: number): boolean {
    const s = this.seen.get(id);
    return !!s && (s.moved || s.peakScore >= this.minScore);
  }

  forget(id: number): void {
    this.seen.delete(id);
  }

  size(): number {
    return this.seen.size;
  }
}
