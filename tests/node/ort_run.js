// Runs an ONNX model with ONNX Runtime (npm onnxruntime-node), the oracle of Formwork's ONNX export.
//
//   node ort_run.js MODEL.onnx X.npy Y.npy [--threads N]
//       writes the model's `logits` for the float32 batch X as Y (float32 .npy)
//   node ort_run.js MODEL.onnx X.npy --bench REPS [--threads N] [--warmup W]
//       prints one JSON line {"median_ms", "min_ms", "reps", "threads", "batch"}
//   node ort_run.js MODEL.onnx --info
//       prints the model's inputs, outputs and metadata as JSON
// Exits 1 with one line on stderr on any failure.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function fail(msg) {
  process.stderr.write('ort_run: error: ' + msg + '\n');
  process.exit(1);
}

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.length < 10 || buf.toString('latin1', 1, 6) !== 'NUMPY') fail(path + ': not a .npy file');
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  if (!/'descr':\s*'<f4'/.test(header)) fail(path + ': only little-endian float32 is read');
  if (/'fortran_order':\s*True/.test(header)) fail(path + ': Fortran order is not read');
  const m = header.match(/'shape':\s*\(([^)]*)\)/);
  if (!m) fail(path + ': no shape in the header');
  const shape = m[1].split(',').map(s => s.trim()).filter(s => s.length).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  if (buf.length - off < 4 * n) fail(path + ': truncated');
  const data = new Float32Array(n);
  for (let i = 0; i < n; ++i) data[i] = buf.readFloatLE(off + 4 * i);
  return { shape, data };
}

function writeNpy(path, shape, data) {
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
               shape.join(', ') + (shape.length === 1 ? ',' : '') + '), }';
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; ++i) body.writeFloatLE(data[i], 4 * i);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

function option(args, name, fallback) {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  if (i + 1 >= args.length) fail(name + ' needs a value');
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
}

async function main() {
  const args = process.argv.slice(2);
  const threads = Number(option(args, '--threads', '0'));
  const reps = Number(option(args, '--bench', '0'));
  const warmup = Number(option(args, '--warmup', '3'));
  const info = args.indexOf('--info');
  if (info >= 0) args.splice(info, 1);
  if (args.length < 1) fail('usage: node ort_run.js MODEL.onnx X.npy Y.npy [--threads N]');
  const opts = { graphOptimizationLevel: 'all', executionMode: 'sequential' };
  if (threads > 0) { opts.intraOpNumThreads = threads; opts.interOpNumThreads = 1; }
  let session;
  try {
    session = await ort.InferenceSession.create(args[0], opts);
  } catch (e) {
    fail(args[0] + ': ONNX Runtime cannot load it: ' + String(e.message || e).split('\n')[0]);
  }
  if (info >= 0) {
    const meta = {};
    process.stdout.write(JSON.stringify({ inputs: session.inputNames, outputs: session.outputNames,
                                          input_metadata: session.inputMetadata || null,
                                          metadata: meta }) + '\n');
    return;
  }
  if (args.length < 2) fail('no input .npy');
  const x = readNpy(args[1]);
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', x.data, x.shape);
  const run = async () => {
    try {
      return await session.run(feeds);
    } catch (e) {
      fail('ONNX Runtime failed: ' + String(e.message || e).split('\n')[0]);
    }
  };
  if (reps > 0) {
    for (let i = 0; i < warmup; ++i) await run();
    const times = [];
    for (let i = 0; i < reps; ++i) {
      const t0 = process.hrtime.bigint();
      await run();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({ median_ms: times[Math.floor(times.length / 2)],
                                          min_ms: times[0], reps, threads, batch: x.shape[0] }) + '\n');
    return;
  }
  if (args.length < 3) fail('no output .npy');
  const out = await run();
  const y = out[session.outputNames[0]];
  writeNpy(args[2], y.dims, y.data);
}

main().catch(e => fail(String(e.message || e).split('\n')[0]));
