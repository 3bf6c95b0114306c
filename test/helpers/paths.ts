import { resolve } from 'node:path';

/** ../shared beside the checkout: real test media and weights, read in place, never copied. */
export const SHARED = resolve(process.env.ROADSIDE_SHARED ?? '../shared');
export const MODELS_DIR = resolve(SHARED, 'models');
export const MANIFEST = resolve('models/manifest.json');
export const CLIPS = {
  opendatacam: resolve(SHARED, 'data/traffic/opendatacam/opendatacam_placeholder_30fps.mp4'),
  cdnet: resolve(SHARED, 'data/traffic/cdnet-highway/highway_cdnet_30fps.mp4'),
  wsdot: resolve(SHARED, 'data/traffic/wsdot/wsdot_i5_s188th_15fps.mp4'),
};
