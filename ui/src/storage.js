// localStorage when the browser allows it, memory otherwise: private modes, kiosks and
// file:// pages throw on access (upstream #560), and the UI must work the same without it.
const memory = new Map();

function store() {
  try {
    const s = window.localStorage;
    const probe = "__pio_probe__";
    s.setItem(probe, "1");
    s.removeItem(probe);
    return s;
  } catch {
    return null;
  }
}

const backend = store();

export function getItem(key, fallback = null) {
  try {
    const value = backend ? backend.getItem(key) : memory.get(key);
    return value === null || value === undefined ? fallback : value;
  } catch {
    return memory.has(key) ? memory.get(key) : fallback;
  }
}

export function setItem(key, value) {
  memory.set(key, String(value));
  try {
    backend?.setItem(key, String(value));
  } catch {
    /* quota or disabled: memory keeps it for this visit */
  }
}
