import sharp from 'sharp';
const [img, out, ...polys] = process.argv.slice(2);
const meta = await sharp(img).metadata();
const W = meta.width! * 2, H = meta.height! * 2;
const svg = `<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${polys.map((p, i) => `<polygon points="${p.split(';').map((xy) => { const [x, y] = xy.split(',').map(Number); return `${x * W},${y * H}`; }).join(' ')}" fill="none" stroke="${['red', 'cyan', 'yellow', 'lime'][i % 4]}" stroke-width="1"/>`).join('')}</svg>`;
const big = await sharp(img).resize(W, H, { kernel: 'nearest' }).png().toBuffer();
await sharp(big).composite([{ input: Buffer.from(svg) }]).png().toFile(out);
