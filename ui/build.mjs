// Builds the UI into plugins_core/web/ui_dist (shipped in the Python package, served at `/`).
// `npm run build` (one build) or `npm run watch` (rebuild on change). The output is
// index.html plus hashed, code-split ES modules under assets/, served by the web server as
// /static/assets/... (see plugins_core/web/app.py).
import * as esbuild from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "plugins_core", "web", "ui_dist");
const watch = process.argv.includes("--watch");

function writeIndex(metafile) {
  const outputs = Object.entries(metafile.outputs);
  const entry = outputs.find(([, o]) => o.entryPoint === "src/main.jsx");
  const js = "/static/" + relative(out, entry[0]);
  const css = entry[1].cssBundle ? "/static/" + relative(out, entry[1].cssBundle) : null;
  const html = readFileSync(join(here, "index.html"), "utf8")
    .replace("<!--CSS-->", css ? `<link rel="stylesheet" href="${css}">` : "")
    .replace("<!--JS-->", `<script type="module" src="${js}"></script>`);
  writeFileSync(join(out, "index.html"), html);
}

const options = {
  absWorkingDir: here,
  entryPoints: ["src/main.jsx"],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "browser",
  target: ["es2020"],
  minify: true,
  sourcemap: false,
  metafile: true,
  legalComments: "none",
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  logLevel: "warning",
  plugins: [
    {
      name: "index-html",
      setup(build) {
        build.onEnd((result) => {
          if (result.errors.length === 0) writeIndex(result.metafile);
        });
      },
    },
  ],
};

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
writeFileSync(join(out, "README.md"), "Built by `npm run build` in ui/ (do not edit): the web UI served at `/`.\n");

// the MQTT connection runs in a module worker: built first, its hashed name given to the app
const workerBuild = await esbuild.build({
  ...options,
  entryPoints: ["src/mqtt-worker.js"],
  splitting: false,
  plugins: [],
});
const workerFile = Object.keys(workerBuild.metafile.outputs).find((f) => f.endsWith(".js"));
options.define = { __MQTT_WORKER__: JSON.stringify("/static/" + relative(out, workerFile)) };
if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log("watching ui/src ...");
} else {
  const result = await esbuild.build(options);
  const outputs = { ...workerBuild.metafile.outputs, ...result.metafile.outputs };
  const sizes = Object.entries(outputs).map(([file, o]) => `${relative(out, file)} ${(o.bytes / 1024).toFixed(1)} KB`);
  console.log(sizes.join("\n"));
}
