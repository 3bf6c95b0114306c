export { fitHomography, applyH, reprojectionErrors, CalibrationError, type Mat3, type Pt, type HomographyFit, type ReprojectionErrors } from './homography.js';
export {
  CalibrationFileSchema,
  PointPairSchema,
  buildCalibration,
  loadCalibration,
  parseCalibration,
  saveCalibration,
  homographyForSize,
  rescaleCalibration,
  groundMapper,
  type CalibrationFile,
  type PointPair,
} from './file.js';
