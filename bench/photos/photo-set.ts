/**
 * The benchmark's photo set: N JPEGs of 2–3 megapixels cut from the scikit-image sample photos
 * (sample-photos.ts), each a different region, size and aspect of one of them, a third of them
 * portrait. The source photos are small (0.14–0.37 MP), so every file is an upscaled crop.
 * Made once per N into `.tools/photos/set-<N>-v1/` and reused; deterministic (seeded).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ensureSamplePhotos, photosDir } from './sample-photos';

/** Bump when the recipe changes, so a stale set is never reused. */
const recipe = 'v1';

/** Landscape aspects (width ÷ height); a portrait file uses the inverse. None is square. */
const aspects = [4 / 3, 3 / 2, 16 / 9, 5 / 4];

/** A small deterministic generator (mulberry32): the same set on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PhotoSet {
  dir: string;
  files: string[];
  /** How many are landscape (the ones the photos workload thumbnails). */
  landscape: number;
  megapixels: { min: number; max: number; mean: number };
  bytes: number;
  sources: string[];
}

interface Plan {
  file: string;
  source: string;
  width: number;
  height: number;
  /** Crop of the source, as fractions of its size: left, top, width (height follows the aspect). */
  left: number;
  top: number;
  scale: number;
  flop: boolean;
}

function plan(count: number, sources: string[], dir: string): Plan[] {
  const next = random(12345);
  return Array.from({ length: count }, (_, i) => {
    const portrait = i % 3 === 2;
    const aspect = aspects[Math.floor(next() * aspects.length)];
    const pixels = 2_050_000 + next() * 900_000; // 2.05–2.95 MP
    const long = Math.round(Math.sqrt(pixels * aspect));
    const short = Math.round(long / aspect);
    return {
      file: path.join(dir, `photo-${String(i).padStart(5, '0')}.jpg`),
      source: sources[i % sources.length],
      width: portrait ? short : long,
      height: portrait ? long : short,
      left: next(),
      top: next(),
      scale: 0.55 + next() * 0.45,
      flop: next() < 0.5,
    };
  });
}

async function make(p: Plan): Promise<void> {
  const meta = await sharp(p.source).metadata();
  const sw = meta.width ?? 0;
  const sh = meta.height ?? 0;
  const aspect = p.width / p.height;
  // The largest crop of this aspect that fits the source, scaled down, placed at (left, top).
  const fitW = Math.min(sw, sh * aspect);
  const cw = Math.max(16, Math.floor(fitW * p.scale));
  const ch = Math.max(16, Math.min(sh, Math.floor(cw / aspect)));
  const region = {
    left: Math.floor(p.left * (sw - cw)),
    top: Math.floor(p.top * (sh - ch)),
    width: cw,
    height: ch,
  };
  let image = sharp(p.source).removeAlpha().toColourspace('srgb').extract(region);
  if (p.flop) image = image.flop();
  const data = await image
    .resize(p.width, p.height, { fit: 'fill', kernel: 'lanczos3' })
    .jpeg({ quality: 88 })
    .toBuffer();
  const tmp = `${p.file}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, p.file);
}

/** The set of `count` photos, made on first use (a few seconds per hundred files). */
export async function benchmarkPhotoSet(count: number, log: (line: string) => void): Promise<PhotoSet> {
  const sources = ensureSamplePhotos(log);
  const dir = path.join(photosDir, `set-${count}-${recipe}`);
  const plans = plan(count, sources, dir);
  const missing = plans.filter((p) => !fs.existsSync(p.file));
  if (missing.length > 0) {
    fs.mkdirSync(dir, { recursive: true });
    log(`making ${missing.length} benchmark photos (2–3 MP JPEGs) in ${dir}`);
    for (let i = 0; i < missing.length; i += 4) await Promise.all(missing.slice(i, i + 4).map(make));
  }
  const mp = plans.map((p) => (p.width * p.height) / 1e6);
  return {
    dir,
    files: plans.map((p) => p.file),
    landscape: plans.filter((p) => p.width > p.height).length,
    megapixels: {
      min: Math.min(...mp),
      max: Math.max(...mp),
      mean: mp.reduce((a, b) => a + b, 0) / mp.length,
    },
    bytes: plans.reduce((sum, p) => sum + fs.statSync(p.file).size, 0),
    sources: sources.map((s) => path.basename(s)),
  };
}
