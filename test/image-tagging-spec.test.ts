/**
 * The spec side of image tagging, without a server: the `has` predicate on arrays (evaluation,
 * validation with fixes, builder), the optional report step of reduce stages (validated; absent
 * from specs that did not ask for it, so their runs schedule nothing new), the example spec and
 * the CLI's --tag, and the thresholds behind the tags.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  brightnessClass,
  colourName,
  imageTags,
  orientation,
  sizeClass,
} from '../src/activities/image-tagging/image-tags';
import { defaultTag, imageTaggingSpec, parseImageTaggingArgs } from '../src/cli/flows/image-tagging';
import { field } from '../src/pipelines/builder';
import { loadPipelineSpecFile } from '../src/pipelines/load';
import { evaluate, predicateProblems } from '../src/pipelines/predicate';
import type { PipelineItem, PipelineSpec, Predicate } from '../src/pipelines/spec';
import { validatePipelineSpec } from '../src/pipelines/validate';
import { reportsOf } from '../src/workflows/reduce-reports';
import { problemsOf } from './support/pipeline-specs';

const examplesDir = path.join(__dirname, '..', 'pipelines', 'examples');

/** A small valid spec with a reduce stage; `report` is set per case. */
const withReport = (report: unknown) => ({
  name: 'r',
  start: 'tag',
  stages: {
    tag: { kind: 'activity', activity: 'noop', next: 'count' },
    count: { kind: 'reduce', histogram: ['tags'], report },
  },
});

describe('image tagging specs', () => {
  describe('the has predicate', () => {
    const item: PipelineItem = {
      id: 'img-1',
      data: { tags: ['large', 'landscape', 'png'], sizes: [1, 2], name: 'landscape', meta: { tags: [null, true] } },
    };
    const table: [string, Predicate, boolean][] = [
      ['an element of the array', { field: 'tags', op: 'has', value: 'landscape' }, true],
      ['not an element', { field: 'tags', op: 'has', value: 'portrait' }, false],
      ['strict: 1 is not "1"', { field: 'sizes', op: 'has', value: '1' }, false],
      ['a number element', { field: 'sizes', op: 'has', value: 2 }, true],
      ['a string field is not an array', { field: 'name', op: 'has', value: 'landscape' }, false],
      ['a missing field', { field: 'missing', op: 'has', value: 'landscape' }, false],
      ['a nested array, null element', { field: 'meta.tags', op: 'has', value: null }, true],
      ['a nested array, boolean element', { field: 'meta.tags', op: 'has', value: true }, true],
      ['negated', { not: { field: 'tags', op: 'has', value: 'png' } }, false],
    ];
    for (const [name, predicate, expected] of table) {
      it(`${name}: ${expected}`, () => {
        assert.deepEqual(predicateProblems(predicate, 'where'), []);
        assert.equal(evaluate(predicate, item), expected);
      });
    }

    it('is built by field().has()', () => {
      assert.deepEqual(field('tags').has('landscape'), { field: 'tags', op: 'has', value: 'landscape' });
    });

    const invalid: [string, unknown, string, RegExp][] = [
      ['no value', { field: 'tags', op: 'has' }, 'w.value', /missing value; "has" compares .* value: "landscape"/],
      ['a list', { field: 'tags', op: 'has', value: ['a', 'b'] }, 'w.value', /looks for one element, not a list;.*all/],
      [
        'an object',
        { field: 'tags', op: 'has', value: { a: 1 } },
        'w.value',
        /must be a string, number, boolean or null/,
      ],
      ['the alias contains', { field: 'tags', op: 'contains', value: 'a' }, 'w.op', /did you mean "has"\?/],
    ];
    for (const [name, predicate, at, message] of invalid) {
      it(`rejects ${name} with a fix`, () => {
        const problems = predicateProblems(predicate, 'w');
        assert.ok(
          problems.some((p) => p.path === at && message.test(p.message)),
          `no problem at ${at} matching ${message}; got ${JSON.stringify(problems)}`,
        );
      });
    }
  });

  describe('the report step of a reduce stage', () => {
    it('accepts a registered report activity', () => {
      assert.deepEqual(validatePipelineSpec(withReport({ activity: 'histogram-report' })).stages.count, {
        kind: 'reduce',
        histogram: ['tags'],
        report: { activity: 'histogram-report' },
      });
    });

    const invalid: [string, unknown, string, RegExp][] = [
      ['a typo', { activity: 'histogram-reprot' }, 'activity', /did you mean "histogram-report"\? Reports are:/],
      [
        'a stage activity',
        { activity: 'noop' },
        'activity',
        /unknown report activity "noop"\. Reports are: histogram-report/,
      ],
      ['no activity', {}, 'activity', /missing activity; name the report activity/],
      ['a string', 'histogram-report', '', /must be an object like \{ "activity": "histogram-report" \}/],
      ['another property', { activity: 'histogram-report', format: 'pdf' }, 'format', /a report has only "activity"/],
    ];
    for (const [name, report, at, message] of invalid) {
      it(`rejects ${name}`, () => {
        const where = `stages.count.report${at ? `.${at}` : ''}`;
        const problems = problemsOf(withReport(report));
        assert.ok(
          problems.some((p) => p.path === where && message.test(p.message)),
          `no problem at ${where} matching ${message}; got ${JSON.stringify(problems)}`,
        );
      });
    }

    it('runs only where a spec asks for it: none in the other examples', () => {
      for (const file of ['tagging-report.json', 'signup-notify.yaml']) {
        assert.deepEqual(reportsOf(loadPipelineSpecFile(path.join(examplesDir, file))), [], file);
      }
      const spec = loadPipelineSpecFile(path.join(examplesDir, 'image-tagging.yaml'));
      assert.deepEqual(reportsOf(spec), [{ stage: 'tag-report', report: { activity: 'histogram-report' } }]);
    });
  });

  describe('image-tagging.yaml and --tag', () => {
    it('tags, then sends the images with one tag to thumbnails item by item, every tagged image to the report', () => {
      const spec = loadPipelineSpecFile(path.join(examplesDir, 'image-tagging.yaml'));
      const { stages } = spec;
      const step = (name: string) => stages[name] as { kind: string; next?: string; activity?: string };
      assert.deepEqual([step(spec.start).kind, step(spec.start).activity], ['activity', 'tag-image']);
      // No barrier anywhere: a thumbnail needs only its own image (a join or a copy would wait for the partition).
      assert.deepEqual(
        Object.values(stages).filter((s) => s.kind === 'join' || s.kind === 'copy'),
        [],
      );
      assert.equal(step(spec.start).next, 'with-tag');
      assert.deepEqual(stages['with-tag'], {
        kind: 'split',
        routes: [{ when: { field: 'tags', op: 'has', value: defaultTag }, to: 'thumbnail' }],
        default: 'tag-report',
      });
      assert.deepEqual([step('thumbnail').activity, step('thumbnail').next], ['thumbnail-image', 'tag-report']);
      assert.deepEqual(stages['tag-report'], {
        kind: 'reduce',
        sum: ['bytes', 'pixels'],
        histogram: ['tags'],
        report: { activity: 'histogram-report' },
      });
      // Batches of more than a few items: fewer task round trips per image.
      for (const name of ['tag', 'thumbnail']) {
        assert.ok(((stages[name] as { batchSize?: number }).batchSize ?? 1) >= 8, `${name} batches`);
      }
    });

    it('puts the chosen tag into the split and changes nothing else', () => {
      const original = loadPipelineSpecFile(path.join(examplesDir, 'image-tagging.yaml'));
      const chosen: PipelineSpec = imageTaggingSpec('portrait');
      assert.deepEqual(chosen.stages['with-tag'], {
        kind: 'split',
        routes: [{ when: { field: 'tags', op: 'has', value: 'portrait' }, to: 'thumbnail' }],
        default: 'tag-report',
      });
      assert.deepEqual({ ...chosen.stages, 'with-tag': undefined }, { ...original.stages, 'with-tag': undefined });
      validatePipelineSpec(chosen);
    });

    it('parses the arguments; refuses a tag images never get, suggesting the closest', () => {
      const options = parseImageTaggingArgs(['photos/', 'a.jpg', '--tag', 'portrait', '--run', 'r1']);
      assert.deepEqual(options, { inputs: ['photos/', 'a.jpg'], tag: 'portrait', runName: 'r1' });
      assert.equal(parseImageTaggingArgs(['photos/']).tag, 'landscape');
      assert.throws(
        () => parseImageTaggingArgs(['photos/', '--tag', 'landscpe']),
        /did you mean "landscape"\? Tags are: small/,
      );
      assert.throws(() => parseImageTaggingArgs(['--tag', 'red']), /Pass a folder of images or image files/);
      assert.throws(() => parseImageTaggingArgs(['photos/', '--run', 'a/b']), /--run needs a name/);
    });
  });

  describe('tag thresholds', () => {
    it('names sizes, orientations and brightness', () => {
      assert.deepEqual(
        [sizeClass(249_999), sizeClass(250_000), sizeClass(1_999_999), sizeClass(2_000_000)],
        ['small', 'medium', 'medium', 'large'],
      );
      assert.deepEqual([orientation(4, 3), orientation(3, 4), orientation(5, 5)], ['landscape', 'portrait', 'square']);
      assert.deepEqual(
        [brightnessClass(0.29), brightnessClass(0.5), brightnessClass(0.71)],
        ['dark', 'midtone', 'bright'],
      );
    });

    const colours: [string, [number, number, number]][] = [
      ['black', [10, 10, 12]],
      ['white', [250, 250, 250]],
      ['gray', [128, 128, 128]],
      ['red', [220, 30, 30]],
      ['orange', [240, 140, 40]],
      ['brown', [120, 72, 32]],
      ['yellow', [245, 210, 0]],
      ['green', [30, 140, 50]],
      ['cyan', [0, 200, 210]],
      ['blue', [40, 80, 220]],
      ['purple', [110, 40, 150]],
      ['pink', [240, 100, 150]],
    ];
    for (const [name, [r, g, b]] of colours) {
      it(`calls rgb(${r}, ${g}, ${b}) ${name}`, () => assert.equal(colourName({ r, g, b }), name));
    }

    it('lists the tags in a fixed order, transparent only when it is', () => {
      const base = { width: 640, height: 480, format: 'png', dominant: { r: 220, g: 30, b: 30 }, meanLuminance: 0.4 };
      assert.deepEqual(imageTags({ ...base, transparent: true }), [
        'medium',
        'landscape',
        'red',
        'midtone',
        'transparent',
        'png',
      ]);
      assert.deepEqual(imageTags({ ...base, transparent: false }), ['medium', 'landscape', 'red', 'midtone', 'png']);
    });
  });
});
