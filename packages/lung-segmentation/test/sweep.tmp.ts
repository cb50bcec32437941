import { makePhantom } from "@lungflow/phantom";
import { segmentLungs } from "../src/index.ts";
import { metrics } from "./metrics.ts";

const configs = [
  { seed: 1, slices: 110, matrix: 300, bowelGas: true, table: true, nodules: 4 },
  { seed: 2, slices: 100, matrix: 320, bowelGas: false, table: false, nodules: 0 },
  { seed: 3, slices: 120, matrix: 300, bowelGas: true, table: false, nodules: 3 },
  { seed: 4, slices: 100, matrix: 340, bowelGas: false, table: true, nodules: 5 },
];
for (const c of configs) {
  const o = { ...c, pixelSpacing: 1, sliceSpacing: 1 };
  const t0 = performance.now();
  const p = makePhantom(o);
  const p0 = makePhantom({ ...o, nodules: [] });
  const tg = performance.now() - t0;
  const vol = {
    data: p.hu,
    shape: p.shape,
    spacing: p.spacing,
    origin: p.origin,
    direction: [
      [0, 0, 1],
      [0, 1, 0],
      [1, 0, 0],
    ] as any,
  };
  let air = 0;
  for (const v of p.airwayMask) air += v;
  for (const mode of ["kdsb17", "improved"] as const) {
    try {
      const c0 = process.cpuUsage();
      const s = segmentLungs(vol, { mode });
      const cpu = process.cpuUsage(c0);
      const m = metrics(p, s, p0.lungMask);
      console.log(
        c.seed,
        mode,
        JSON.stringify({
          gen: Math.round(tg),
          cpu: Math.round(cpu.user / 1000),
          dice: m.dice.toFixed(4),
          air: `${m.airwayIn}/${air}`,
          inBox: `${m.nodulesInBox}/${p.nodules.length}`,
          cov: m.noduleCoverage
            .map((x, i) => x.toFixed(2) + (p.nodules[i].juxtapleural ? "j" : ""))
            .join(","),
          fixes: s.stats.fixes,
        }),
      );
    } catch (e) {
      console.log(c.seed, mode, "ERR", (e as Error).message);
    }
  }
}
