import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zlib from "node:zlib";
import { cpu } from "@cinder/backend-cpu";
import { arange, registerBackend, tensor } from "@cinder/tensor";
import { unzlibSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import {
  base64,
  canRasterize,
  crc32,
  encodePNG,
  figure,
  imageToPNG,
  makeGrid,
  saveImage,
  svgToPNG,
} from "../src/index";

registerBackend(cpu);

const dir = mkdtempSync(join(tmpdir(), "cinder-viz-png-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Decoded {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
  chunks: string[];
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** A PNG decoder for 8-bit non-interlaced images: checks the signature and every chunk's CRC, undoes filters. */
function decodePNG(png: Uint8Array): Decoded {
  expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: string[] = [];
  const idat: Uint8Array[] = [];
  let width = 0;
  let height = 0;
  let channels = 0;
  for (let o = 8; o < png.length; ) {
    const len = view.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const body = png.subarray(o + 8, o + 8 + len);
    const crc = view.getUint32(o + 8 + len);
    expect(crc).toBe(crc32(png.subarray(o + 4, o + 8 + len)));
    if ("crc32" in zlib)
      expect(crc).toBe(
        (zlib as unknown as { crc32(b: Uint8Array): number }).crc32(png.subarray(o + 4, o + 8 + len)),
      );
    chunks.push(type);
    if (type === "IHDR") {
      width = view.getUint32(o + 8);
      height = view.getUint32(o + 12);
      expect(body[8]).toBe(8);
      channels = CHANNELS[body[9]];
      expect(body[12]).toBe(0);
    } else if (type === "IDAT") idat.push(body);
    o += 12 + len;
  }
  const raw = unzlibSync(Uint8Array.from(idat.flatMap((c) => [...c])));
  const stride = width * channels;
  expect(raw.length).toBe((stride + 1) * height);
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c;
      const pr =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      const pred = [0, a, b, (a + b) >> 1, pr][f];
      pixels[y * stride + x] = (row[x] + pred) & 255;
    }
  }
  return { width, height, channels, pixels, chunks };
}

describe("PNG encoder", () => {
  it("CRC-32 matches the standard check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  it("round-trips grey, grey+alpha, RGB and RGBA pixels", () => {
    for (const channels of [1, 2, 3, 4] as const) {
      const w = 7;
      const h = 5;
      const px = Uint8Array.from({ length: w * h * channels }, (_, i) => (i * 37 + 11) & 255);
      const d = decodePNG(encodePNG(px, w, h, channels));
      expect(d.chunks).toEqual(["IHDR", "IDAT", "IEND"]);
      expect([d.width, d.height, d.channels]).toEqual([w, h, channels]);
      expect(d.pixels).toEqual(px);
    }
    expect(() => encodePNG(new Uint8Array(5), 2, 2, 1)).toThrow(/expected 4 bytes/);
  });

  it("base64 agrees with Buffer", () => {
    for (const n of [0, 1, 2, 3, 4, 5, 100]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 91) & 255);
      expect(base64(b)).toBe(Buffer.from(b).toString("base64"));
    }
  });
});

describe("image grids", () => {
  // five 3x4 greyscale images: image k has every pixel = k / 4
  const batch = arange(5).div(4).reshape(5, 1, 1, 1).expand(5, 1, 3, 4).contiguous();

  it("makeGrid tiles like torchvision.utils.make_grid", () => {
    const grid = makeGrid(batch, { nrow: 3, padding: 2 });
    // 3 columns x 2 rows of (3+2) x (4+2) cells, plus the outer padding
    expect(grid.shape).toEqual([3, 2 * 5 + 2, 3 * 6 + 2]);
    const g = grid.toArray() as number[][][];
    expect(g[0][2][2]).toBe(0);
    expect(g[1][2][8]).toBeCloseTo(0.25);
    expect(g[2][2 + 5][2 + 6]).toBeCloseTo(1);
    expect(g[0][0][0]).toBe(0); // padding
    expect(g[0][7][14]).toBe(0); // the empty sixth cell stays padding
  });

  it("normalize stretches to [0, 1]; [B, H, W] is a batch of greyscale images", () => {
    const g = makeGrid(tensor([[[-1, 1]], [[3, 3]]]), { normalize: true, padding: 0 });
    expect(g.shape).toEqual([3, 1, 4]);
    expect(Array.from(g.data())).toEqual([0, 0.5, 1, 1, 0, 0.5, 1, 1, 0, 0.5, 1, 1]);
    expect(() => makeGrid(tensor([1, 2, 3]))).toThrow(/\[B, 1\|3, H, W\]/);
  });

  it("saveImage writes a real PNG whose pixels decode back", async () => {
    const path = join(dir, "grid.png");
    await saveImage(batch, path, { nrow: 3, padding: 2 });
    const d = decodePNG(new Uint8Array(readFileSync(path)));
    expect([d.width, d.height, d.channels]).toEqual([20, 12, 1]);
    const at = (x: number, y: number) => d.pixels[y * d.width + x];
    expect(at(0, 0)).toBe(0);
    expect(at(2, 2)).toBe(0);
    expect(at(8, 2)).toBe(64); // 0.25 * 255 rounded
    expect(at(14, 2)).toBe(128);
    expect(at(2, 7)).toBe(191);
    expect(at(8 + 3, 7 + 2)).toBe(255);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("RGB images stay RGB", () => {
    const img = tensor([[[[1, 0]], [[0, 1]], [[0, 0]]]]); // [1, 3, 1, 2]: red, green
    const d = decodePNG(imageToPNG(img.data(), img.shape));
    expect([d.width, d.height, d.channels]).toEqual([2, 1, 3]);
    expect([...d.pixels]).toEqual([255, 0, 0, 0, 255, 0]);
  });
});

function hasCJKFont(): boolean {
  try {
    return execFileSync("fc-list", [":lang=zh"], { encoding: "utf8" }).trim() !== "";
  } catch {
    return false;
  }
}

describe.runIf(await canRasterize())("figures as PNG (@resvg/resvg-js)", () => {
  it("saves a figure as a PNG of the figure's pixel size", async () => {
    const fig = figure({ figsize: [4, 3] });
    fig.gca().plot([1, 2, 3], [1, 4, 9], "r-", { linewidth: 4 }).setTitle("训练");
    const path = join(dir, "fig.png");
    await fig.save(path);
    const d = decodePNG(new Uint8Array(readFileSync(path)));
    expect([d.width, d.height]).toEqual([400, 300]);
    const px = (x: number, y: number) => [
      ...d.pixels.subarray((y * d.width + x) * d.channels, (y * d.width + x) * d.channels + 3),
    ];
    expect(px(1, 1)).toEqual([255, 255, 255]);
    let red = 0;
    for (let i = 0; i < d.width * d.height; i++) {
      const [r, g, b] = d.pixels.subarray(i * d.channels, i * d.channels + 3);
      if (r > 200 && g < 60 && b < 60) red++;
    }
    expect(red).toBeGreaterThan(200);
  });

  it.runIf(hasCJKFont())("renders Chinese text with the system's CJK font", async () => {
    const svg = (s: string) =>
      `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><text x="10" y="45" font-size="36" font-family="DejaVu Sans, 'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif">${s}</text></svg>`;
    const ink = (png: Uint8Array) => {
      const d = decodePNG(png);
      let n = 0;
      for (let i = 0; i < d.width * d.height; i++) if (d.pixels[i * d.channels] < 128) n++;
      return n;
    };
    expect(ink(await svgToPNG(svg("训练损失")))).toBeGreaterThan(300);
  });
});
