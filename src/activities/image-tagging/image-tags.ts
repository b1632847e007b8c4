/**
 * The tags of an image, from measurements sharp takes (see tag-image.ts): a size class, an
 * orientation, the name of its dominant colour, a brightness class, `transparent` when some
 * pixels are, and its format. Pure functions, so the vocabulary and the thresholds live in one place.
 */

export const sizeClasses = ['small', 'medium', 'large'] as const;
export const orientations = ['landscape', 'portrait', 'square'] as const;
export const colourNames = [
  'black',
  'gray',
  'white',
  'red',
  'orange',
  'brown',
  'yellow',
  'green',
  'cyan',
  'blue',
  'purple',
  'pink',
] as const;
export const brightnessClasses = ['dark', 'midtone', 'bright'] as const;
/** Formats sharp reports (`heif` includes AVIF files), the last tag of an image. */
export const imageFormats = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'svg', 'jp2', 'jxl'] as const;

/** Every tag an image can get, for checking a tag a person chooses. */
export const imageTagVocabulary: readonly string[] = [
  ...sizeClasses,
  ...orientations,
  ...colourNames,
  ...brightnessClasses,
  'transparent',
  ...imageFormats,
];

/** small below ¼ megapixel (e.g. 500×500), large from 2 megapixels (e.g. 1920×1080 is medium). */
export function sizeClass(pixels: number): (typeof sizeClasses)[number] {
  if (pixels < 250_000) return 'small';
  return pixels < 2_000_000 ? 'medium' : 'large';
}

/** Of the image as displayed (EXIF rotation applied). */
export function orientation(width: number, height: number): (typeof orientations)[number] {
  if (width === height) return 'square';
  return width > height ? 'landscape' : 'portrait';
}

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** The common name of a colour (0–255 channels), by hue, saturation and lightness. */
export function colourName({ r, g, b }: Rgb): (typeof colourNames)[number] {
  const max = Math.max(r, g, b) / 255;
  const min = Math.min(r, g, b) / 255;
  const lightness = (max + min) / 2;
  const chroma = max - min;
  if (lightness < 0.1) return 'black';
  if (lightness > 0.93) return 'white';
  // Greys: too little colour to name a hue (chroma also catches very dark or very light tints).
  if (chroma < 0.12) return lightness < 0.2 ? 'black' : lightness > 0.85 ? 'white' : 'gray';
  const hue = hueDegrees(r / 255, g / 255, b / 255, max, chroma);
  if (hue < 15 || hue >= 345) return 'red';
  if (hue < 40) return lightness < 0.4 ? 'brown' : 'orange';
  if (hue < 70) return 'yellow';
  if (hue < 165) return 'green';
  if (hue < 200) return 'cyan';
  if (hue < 260) return 'blue';
  if (hue < 290) return 'purple';
  return 'pink';
}

function hueDegrees(r: number, g: number, b: number, max: number, chroma: number): number {
  let sector: number;
  if (max === r) sector = ((g - b) / chroma + 6) % 6;
  else if (max === g) sector = (b - r) / chroma + 2;
  else sector = (r - g) / chroma + 4;
  return sector * 60;
}

/** Relative luminance (Rec. 709) of a mean colour, 0–1. */
export function luminance({ r, g, b }: Rgb): number {
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

/** dark below 0.3 mean luminance, bright above 0.7, midtone between. */
export function brightnessClass(meanLuminance: number): (typeof brightnessClasses)[number] {
  if (meanLuminance < 0.3) return 'dark';
  return meanLuminance > 0.7 ? 'bright' : 'midtone';
}

export interface ImageMeasurements {
  width: number;
  height: number;
  format: string;
  dominant: Rgb;
  meanLuminance: number;
  transparent: boolean;
}

/** The image's tags, in a fixed order: size, orientation, colour, brightness, [transparent], format. */
export function imageTags(m: ImageMeasurements): string[] {
  return [
    sizeClass(m.width * m.height),
    orientation(m.width, m.height),
    colourName(m.dominant),
    brightnessClass(m.meanLuminance),
    ...(m.transparent ? ['transparent'] : []),
    m.format,
  ];
}
