// config.ini as the server sends it (/api/config/shared) → {section: {key: value}}.
// Unlike upstream's UI, a blank line does not close a section; `;` and `#` start comments.
export function parseIni(text) {
  const out = {};
  let section = null;
  for (const raw of String(text || "").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith(";") || line.startsWith("#")) continue;
    const header = line.match(/^\[(.+)\]$/);
    if (header) {
      section = header[1].trim();
      out[section] = out[section] || {};
      continue;
    }
    const eq = line.search(/[=:]/);
    if (eq < 0 || section === null) continue;
    out[section][line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

export function isOn(value) {
  return value === "1" || value === "true" || value === "True" || value === "on";
}
