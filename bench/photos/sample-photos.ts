/**
 * Real photos for the benchmarks: the colour sample photos scikit-image ships in its wheel
 * (skimage/data/), fetched once with pip into the git-ignored `.tools/photos/` and reused.
 * pip uses its own configured package index; nothing here names a host.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { toolsDir } from '../../src/infra/paths';

export const photosDir = path.join(toolsDir, 'photos');
export const scikitImageVersion = '0.26.0';

/** Colour photographs of skimage/data (the greyscale, synthetic and microscope images are left out). */
export const samplePhotoNames = [
  'astronaut.png',
  'chelsea.png',
  'coffee.png',
  'motorcycle_left.png',
  'motorcycle_right.png',
  'rocket.jpg',
  'hubble_deep_field.jpg',
  'retina.jpg',
  'ihc.png',
] as const;

const sourceDir = path.join(photosDir, `scikit-image-${scikitImageVersion}`);

function python(): string {
  for (const candidate of ['python3', 'python']) {
    try {
      execFileSync(candidate, ['-m', 'pip', '--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next
    }
  }
  throw new Error(
    'The benchmark photos come from the scikit-image wheel, fetched with pip, but neither `python3 -m pip` nor ' +
      '`python -m pip` works here. Install Python 3 with pip (Debian: apt-get install -y python3-pip), or put the ' +
      `files ${samplePhotoNames.join(', ')} into ${sourceDir}/ yourself.`,
  );
}

/** The sample photos' paths, fetching the wheel and extracting them on first use. */
export function ensureSamplePhotos(log: (line: string) => void): string[] {
  const files = samplePhotoNames.map((name) => path.join(sourceDir, name));
  if (files.every((f) => fs.existsSync(f))) return files;
  const py = python();
  const wheelDir = path.join(photosDir, 'wheel');
  fs.mkdirSync(wheelDir, { recursive: true });
  const wheelOf = () => fs.readdirSync(wheelDir).find((f) => f.startsWith(`scikit_image-${scikitImageVersion}-`));
  if (!wheelOf()) {
    log(`fetching scikit-image ${scikitImageVersion}'s wheel with pip into ${wheelDir} (once)`);
    execFileSync(
      py,
      [
        '-m',
        'pip',
        'download',
        `scikit-image==${scikitImageVersion}`,
        '--no-deps',
        '--only-binary=:all:',
        '-d',
        wheelDir,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  const wheel = wheelOf();
  if (!wheel)
    throw new Error(`pip reported success but left no scikit-image ${scikitImageVersion} wheel in ${wheelDir}.`);
  // A wheel is a zip; Python's zipfile reads it, so no unzip tool is needed.
  const extract = [
    'import sys, zipfile, os',
    'z = zipfile.ZipFile(sys.argv[1]); out = sys.argv[2]',
    'for name in sys.argv[3:]:',
    '    data = z.read("skimage/data/" + name)',
    '    tmp = os.path.join(out, name + ".tmp")',
    '    open(tmp, "wb").write(data); os.replace(tmp, os.path.join(out, name))',
  ].join('\n');
  fs.mkdirSync(sourceDir, { recursive: true });
  execFileSync(py, ['-c', extract, path.join(wheelDir, wheel), sourceDir, ...samplePhotoNames], { stdio: 'inherit' });
  log(`extracted ${samplePhotoNames.length} sample photos into ${sourceDir}`);
  return files;
}
