import { render } from "preact";
import { cachedApi } from "./api.js";
import { App } from "./app.jsx";
import "uplot/dist/uPlot.min.css";
import "./style.css";

// descriptors change only with the installed plugins: fetched once, at once
cachedApi("/api/charts/descriptors").catch(() => {});
cachedApi("/api/jobs/descriptors").catch(() => {});

render(<App />, document.getElementById("app"));
