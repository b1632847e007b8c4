/**
 * A decompression bomb for demos and tests: a valid PNG of a few kilobytes whose header says
 * 16384×16384 pixels (268 megapixels, over sharp's limits), all black, so a decoder that trusted
 * it would allocate gigabytes. Built by hand (PNG chunks, zlib) because no encoder should make it.
 */
import zlib from 'node:zlib';

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

export function decompressionBombPng(width = 16384, height = 16384): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth 1
  header[9] = 0; // greyscale; compression, filter and interlace bytes stay 0
  // Every row: filter byte 0 and width bits of zeros; deflate shrinks them about a thousandfold.
  const rows = Buffer.alloc((1 + Math.ceil(width / 8)) * height);
  const pixels = zlib.deflateSync(rows, { level: 9 });
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}
