export { MultiObjectTracker, DEFAULT_TRACKER_OPTIONS, bufferedIou, type TrackerOptions } from './tracker.js';
export { assign, type Assignment } from './hungarian.js';
