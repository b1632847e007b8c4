/**
 * Demo images for the image-tagging flow, drawn with sharp from small SVG scenes: several sizes,
 * orientations, colours and formats, a transparent PNG, a JPEG whose EXIF says "rotate 90°", and
 * two files that must not get through: a truncated JPEG (corrupt) and a decompression bomb.
 * Files that exist are kept, and each is written atomically, so calling this again is cheap.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { fileExists, writeAtomically } from '../infra/atomic-write';
import { decompressionBombPng } from './decompression-bomb';

interface Scene {
  name: string;
  width: number;
  height: number;
  /** The main colour, covering most of the picture. */
  background: string;
  /** A few shapes on top (SVG elements), drawn in the picture's own coordinates. */
  shapes?: (w: number, h: number) => string;
  /** Keep the alpha channel (transparent background) instead of flattening. */
  transparent?: boolean;
  /** EXIF orientation written into the file (6: the viewer rotates it 90° clockwise). */
  exifOrientation?: number;
}

const scenes: Scene[] = [
  {
    name: 'sunset-2400x1350.jpg',
    width: 2400,
    height: 1350,
    background: '#f28c28',
    shapes: (w, h) => `<circle cx="${w * 0.7}" cy="${h * 0.6}" r="${h * 0.15}" fill="#ffd166"/>
      <rect x="0" y="${h * 0.85}" width="${w}" height="${h * 0.15}" fill="#7a3b10"/>`,
  },
  {
    name: 'forest-900x1600.jpg',
    width: 900,
    height: 1600,
    background: '#1f5a2a',
    shapes: (w, h) =>
      `<polygon points="${w * 0.5},${h * 0.1} ${w * 0.2},${h * 0.5} ${w * 0.8},${h * 0.5}" fill="#143d1c"/>`,
  },
  {
    name: 'sky-800x800.png',
    width: 800,
    height: 800,
    background: '#8ec9f0',
    shapes: (w, h) => `<ellipse cx="${w * 0.3}" cy="${h * 0.3}" rx="${w * 0.15}" ry="${h * 0.06}" fill="#ffffff"/>`,
  },
  {
    name: 'night-1280x720.webp',
    width: 1280,
    height: 720,
    background: '#0b0f24',
    shapes: (w, h) =>
      [0.1, 0.3, 0.5, 0.7]
        .map((x) => `<rect x="${w * x}" y="${h * 0.6}" width="${w * 0.04}" height="${h * 0.05}" fill="#f5d76e"/>`)
        .join(''),
  },
  {
    name: 'snow-640x480.jpg',
    width: 640,
    height: 480,
    background: '#f4f6f8',
    shapes: (w, h) => `<rect x="${w * 0.45}" y="${h * 0.5}" width="${w * 0.04}" height="${h * 0.2}" fill="#5b3a1e"/>`,
  },
  {
    name: 'logo-480x480.png',
    width: 480,
    height: 480,
    background: 'none',
    transparent: true,
    shapes: (w, h) => `<circle cx="${w / 2}" cy="${h / 2}" r="${w * 0.43}" fill="#d62828"/>`,
  },
  { name: 'icon-160x120.png', width: 160, height: 120, background: '#f5d000' },
  {
    name: 'banner-1920x480.jpg',
    width: 1920,
    height: 480,
    background: '#6a2c91',
    shapes: (w, h) => `<rect x="${w * 0.05}" y="${h * 0.35}" width="${w * 0.3}" height="${h * 0.3}" fill="#9b59b6"/>`,
  },
  {
    name: 'poster-1200x2400.webp',
    width: 1200,
    height: 2400,
    background: '#f06292',
    shapes: (w, h) => `<rect x="${w * 0.1}" y="${h * 0.1}" width="${w * 0.8}" height="${h * 0.1}" fill="#880e4f"/>`,
  },
  { name: 'gray-400x400.tiff', width: 400, height: 400, background: '#808080' },
  {
    name: 'rotated-exif-800x600.jpg',
    width: 800,
    height: 600,
    background: '#7a4a21',
    exifOrientation: 6,
    shapes: (w, h) => `<rect x="${w * 0.1}" y="${h * 0.1}" width="${w * 0.2}" height="${h * 0.2}" fill="#c08040"/>`,
  },
];

/** Names of the two files the flow must refuse: a truncated JPEG and a decompression bomb. */
export const corruptSampleName = 'corrupt-truncated.jpg';
export const bombSampleName = 'bomb-16384x16384.png';

async function render(scene: Scene): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}">
    <rect width="100%" height="100%" fill="${scene.background}"/>${scene.shapes?.(scene.width, scene.height) ?? ''}</svg>`;
  let image = sharp(Buffer.from(svg));
  if (!scene.transparent) image = image.flatten({ background: '#ffffff' });
  if (scene.exifOrientation) image = image.withMetadata({ orientation: scene.exifOrientation });
  const format = path.extname(scene.name).slice(1);
  switch (format) {
    case 'jpg':
      return image.jpeg({ quality: 85 }).toBuffer();
    case 'webp':
      return image.webp({ quality: 85 }).toBuffer();
    case 'tiff':
      return image.tiff().toBuffer();
    default:
      return image.png().toBuffer();
  }
}

/** The first half of a real JPEG: its header reads, its pixels end early. */
async function truncatedJpeg(): Promise<Buffer> {
  const whole = await render({ name: 'x.jpg', width: 320, height: 240, background: '#3a86ff' });
  return whole.subarray(0, Math.floor(whole.length / 2));
}

/** Writes the demo images into `dir` (kept when they exist); their paths in a fixed order. */
export async function generateSampleImages(dir: string, log: (line: string) => void): Promise<string[]> {
  const folder = path.resolve(dir);
  const files: { name: string; make: () => Promise<Buffer> }[] = [
    ...scenes.map((scene) => ({ name: scene.name, make: () => render(scene) })),
    { name: corruptSampleName, make: truncatedJpeg },
    { name: bombSampleName, make: async () => decompressionBombPng() },
  ];
  const paths: string[] = [];
  let made = 0;
  for (const { name, make } of files) {
    const file = path.join(folder, name);
    paths.push(file);
    if (await fileExists(file)) continue;
    const data = await make();
    await writeAtomically(file, (tmp) => fs.writeFile(tmp, data));
    made += 1;
  }
  log(`${made} sample image${made === 1 ? '' : 's'} made, ${files.length - made} kept in ${folder}`);
  return paths;
}
