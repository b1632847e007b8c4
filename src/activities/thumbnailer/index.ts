/** The video-thumbnailer activities, as workers register them. */
export { extractFrame } from '../media/extract-frame';
export { makeThumbnails } from './thumbnails';
export { makeContactSheet } from './contact-sheet';
