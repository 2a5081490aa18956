// The landing page's market charts. Loaded lazily (chart.js stays out of the first load); only the parts
// drawn here are registered. Each chart has its figures as a table for screen readers.
import { useEffect, useMemo, useRef } from "react";
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from "chart.js";
import type { LandingMarketStatsQuery } from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { formatMonth, formatNumber } from "../../i18n/format";
import { useEnumLabel } from "./enumLabel";

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Filler);

type Stats = LandingMarketStatsQuery["marketStats"];

const ACCENT = "#0b57d0";
const ACCENT_SOFT = "rgba(11, 87, 208, 0.15)";
const GRID = "#e4e8ec";
const TEXT = "#1b1f24";

interface Row {
  label: string;
  value: number;
}

function CanvasChart({ config, height }: { config: ChartConfiguration; height: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, config);
    return () => chart.destroy();
  }, [config]);
  return (
    <div className="chart-box" style={{ height }}>
      {/* The table below carries the figures for assistive technology. */}
      <canvas ref={canvas} aria-hidden="true" />
    </div>
  );
}

function ChartFigure({
  id,
  title,
  keyHeader,
  valueHeader,
  rows,
  config,
  height,
  note,
}: {
  id: string;
  title: string;
  keyHeader: string;
  valueHeader: string;
  rows: Row[];
  config: ChartConfiguration;
  height: number;
  note?: string;
}) {
  const { t, locale } = useI18n();
  return (
    <figure className="chart card" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{title}</h3>
      {rows.length ? <CanvasChart config={config} height={height} /> : <p className="muted">{t("common.none")}</p>}
      <table className="visually-hidden">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{keyHeader}</th>
            <th scope="col">{valueHeader}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label}>
              <th scope="row">{r.label}</th>
              <td>{formatNumber(r.value, locale)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {note && <figcaption className="chart-note muted">{note}</figcaption>}
    </figure>
  );
}

/** A long axis label on two lines (split at the space nearest its middle). */
function wrap(label: string, max = 18): string | string[] {
  if (label.length <= max) return label;
  const middle = label.length / 2;
  let best = -1;
  for (let i = 0; i < label.length; i++) {
    if (label[i] === " " && (best < 0 || Math.abs(i - middle) < Math.abs(best - middle))) best = i;
  }
  return best > 0 ? [label.slice(0, best), label.slice(best + 1)] : label;
}

function barConfig(rows: Row[], label: string, locale: "ko" | "en", horizontal: boolean): ChartConfiguration {
  const valueAxis = {
    beginAtZero: true,
    grid: { color: GRID },
    ticks: { precision: 0, color: TEXT, callback: (v: string | number) => formatNumber(Number(v), locale) },
  };
  const categoryAxis = { grid: { display: false }, ticks: { color: TEXT, autoSkip: false } };
  return {
    type: "bar",
    data: {
      labels: rows.map((r) => wrap(r.label)),
      datasets: [{ label, data: rows.map((r) => r.value), backgroundColor: ACCENT, borderRadius: 3, maxBarThickness: 28 }],
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        tooltip: { callbacks: { label: (ctx) => `${label}: ${formatNumber(Number(ctx.raw), locale)}` } },
      },
      scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
    },
  };
}

export default function LandingCharts({ stats }: { stats: Stats }) {
  const { t, locale } = useI18n();
  const label = useEnumLabel();

  const charts = useMemo(() => {
    const sectors: Row[] = stats.listingsBySector
      .filter((c) => c.count > 0)
      .sort((a, b) => b.count - a.count)
      .map((c) => ({ label: label("Sector", c.key.toUpperCase()), value: c.count }));
    const sections: Row[] = [...stats.listingsByIpcSection]
      .sort((a, b) => (a.key < b.key ? -1 : 1))
      .map((c) => ({ label: label("ipcSection", c.key.toUpperCase()), value: c.count }));
    const months: Row[] = stats.dealsPerMonth.map((m) => ({ label: formatMonth(m.month, locale), value: m.deals }));

    const listingsLabel = t("public.chart.listings");
    const dealsLabel = t("public.chart.deals");
    const dealsConfig: ChartConfiguration = {
      type: "line",
      data: {
        labels: months.map((m) => m.label),
        datasets: [
          {
            label: dealsLabel,
            data: months.map((m) => m.value),
            borderColor: ACCENT,
            backgroundColor: ACCENT_SOFT,
            pointBackgroundColor: ACCENT,
            fill: true,
            tension: 0,
          },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          tooltip: { callbacks: { label: (ctx) => `${dealsLabel}: ${formatNumber(Number(ctx.raw), locale)}` } },
        },
        scales: {
          x: { grid: { display: false }, ticks: { color: TEXT, maxRotation: 0, autoSkipPadding: 8 } },
          y: {
            beginAtZero: true,
            grid: { color: GRID },
            ticks: { precision: 0, color: TEXT, callback: (v) => formatNumber(Number(v), locale) },
          },
        },
      },
    };
    return {
      sectors,
      sections,
      months,
      listingsLabel,
      dealsLabel,
      sectorConfig: barConfig(sectors, listingsLabel, locale, true),
      ipcConfig: barConfig(sections, listingsLabel, locale, true),
      dealsConfig,
    };
  }, [stats, locale, t, label]);
  const { sectors, sections, months, listingsLabel, dealsLabel } = charts;

  return (
    <div className="charts">
      <ChartFigure
        id="chart-sector"
        title={t("public.chart.bySector")}
        keyHeader={t("public.chart.sector")}
        valueHeader={listingsLabel}
        rows={sectors}
        config={charts.sectorConfig}
        height={Math.max(160, sectors.length * 30 + 40)}
      />
      <ChartFigure
        id="chart-ipc"
        title={t("public.chart.byIpc")}
        keyHeader={t("public.chart.section")}
        valueHeader={listingsLabel}
        rows={sections}
        config={charts.ipcConfig}
        height={Math.max(160, sections.length * 30 + 40)}
        note={t("public.chart.ipcNote")}
      />
      <ChartFigure
        id="chart-deals"
        title={t("public.chart.dealsPerMonth")}
        keyHeader={t("public.chart.month")}
        valueHeader={dealsLabel}
        rows={months}
        config={charts.dealsConfig}
        height={260}
      />
    </div>
  );
}
