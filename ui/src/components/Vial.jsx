// A drawing of a unit's vial: liquid level (volume), temperature, stirring, LEDs, OD, all live.
import { useTopic } from "../hooks.js";

function number(text, key) {
  if (text === null || text === undefined) return null;
  try {
    const value = JSON.parse(text);
    if (typeof value === "number") return value;
    if (value && typeof value === "object") {
      const v = key && key in value ? value[key] : value.value;
      return typeof v === "number" ? v : null;
    }
  } catch {
    /* not JSON */
  }
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

export function Vial({ unit, experiment, config }) {
  const prefix = `pioreactor/${unit}/${experiment}`;
  const volume = number(useTopic(`${prefix}/dosing_automation/current_volume_ml`)) ?? number(config.bioreactor?.initial_volume_ml);
  const maxVolume = number(useTopic(`${prefix}/dosing_automation/max_working_volume_ml`)) ?? number(config.bioreactor?.max_working_volume_ml) ?? 20;
  const temperature = number(useTopic(`${prefix}/temperature_automation/temperature`), "temperature");
  const rpm = number(useTopic(`${prefix}/stirring/measured_rpm`), "measured_rpm");
  const od = number(useTopic(`${prefix}/growth_rate_calculating/od_filtered`), "od_filtered");
  let leds = {};
  try {
    leds = JSON.parse(useTopic(`${prefix}/leds/intensity`) || "{}");
  } catch {
    leds = {};
  }
  const capacity = Math.max(number(config.bioreactor?.reactor_capacity_ml) ?? maxVolume * 1.25, volume || 0, 1);
  const fill = volume ? Math.min(volume / capacity, 1) : 0;
  const top = 20 + 200 * (1 - fill);
  const shade = od ? Math.min(0.15 + od * 0.12, 0.85) : 0.15;
  const litLeds = Object.entries(leds).filter(([k, v]) => k !== "timestamp" && Number(v) > 0);
  const summary = [
    volume !== null && volume !== undefined ? `${volume.toFixed(1)} ml` : "volume unknown",
    temperature !== null ? `${temperature.toFixed(1)} °C` : "temperature not measured",
    rpm !== null ? `stirring at ${Math.round(rpm)} RPM` : "not stirring",
    litLeds.length ? `LEDs ${litLeds.map(([k, v]) => `${k} ${v}%`).join(", ")}` : "LEDs off",
  ].join("; ");
  return (
    <figure class="vial" aria-label={`Vial: ${summary}`}>
      <svg viewBox="0 0 160 250" width="160" height="250" role="img" aria-hidden="true">
        <rect x="40" y="10" width="80" height="215" rx="10" fill="#fff" stroke="#9aa3b2" stroke-width="3" />
        {fill > 0 && <rect x="43" y={top} width="74" height={222 - top} rx="7" fill={`rgba(196, 160, 60, ${shade})`} />}
        {maxVolume && <line x1="34" x2="126" y1={20 + 200 * (1 - maxVolume / capacity)} y2={20 + 200 * (1 - maxVolume / capacity)} stroke="#b3261e" stroke-dasharray="4 3" />}
        <rect x="64" y="205" width="32" height="8" rx="3" fill={rpm ? "#5331ca" : "#9aa3b2"}>
          {rpm ? <animateTransform attributeName="transform" type="rotate" from="0 80 209" to="360 80 209" dur={`${Math.max(60 / Math.max(rpm, 1), 0.15)}s`} repeatCount="indefinite" /> : null}
        </rect>
        {["A", "B", "C", "D"].map((ch, i) => (
          <circle key={ch} cx={i < 2 ? 22 : 138} cy={80 + (i % 2) * 60} r="9" fill={Number(leds[ch]) > 0 ? "#ffb300" : "#e1e4ea"} stroke="#9aa3b2">
            <title>{`LED ${ch}: ${leds[ch] ?? 0}%`}</title>
          </circle>
        ))}
      </svg>
      <figcaption>
        <dl class="facts">
          <dt>Volume</dt>
          <dd>{volume !== null && volume !== undefined ? `${volume.toFixed(1)} ml` : "–"}</dd>
          <dt>Temperature</dt>
          <dd>{temperature !== null ? `${temperature.toFixed(2)} °C` : "–"}</dd>
          <dt>Stirring</dt>
          <dd>{rpm !== null ? `${Math.round(rpm)} RPM` : "–"}</dd>
          <dt>nOD</dt>
          <dd>{od !== null ? od.toFixed(3) : "–"}</dd>
          <dt>LEDs</dt>
          <dd>{litLeds.length ? litLeds.map(([k, v]) => `${k} ${v}%`).join(", ") : "off"}</dd>
        </dl>
      </figcaption>
    </figure>
  );
}
