// Every page: its path pattern, its title, whether the side navigation lists it, and the
// module that renders it (loaded when first shown, so the first load stays small).
export const ROUTES = [
  { path: "/", title: "Overview", load: () => import("./pages/overview.jsx") },
  { path: "/overview", title: "Overview", nav: true, load: () => import("./pages/overview.jsx") },
  { path: "/pioreactors", title: "Pioreactors", nav: true, load: () => import("./pages/pioreactors.jsx") },
  { path: "/pioreactors/:unit", title: "Pioreactor", load: () => import("./pages/unit.jsx") },
  { path: "/experiments", title: "Experiments", nav: true, load: () => import("./pages/experiments.jsx") },
  { path: "/experiment-profiles", title: "Profiles", nav: true, load: () => import("./pages/profiles.jsx") },
  { path: "/experiment-profiles/new", title: "New profile", load: () => import("./pages/profile_editor.jsx") },
  { path: "/experiment-profiles/:file/edit", title: "Edit profile", load: () => import("./pages/profile_editor.jsx") },
  { path: "/export-data", title: "Export data", nav: true, load: () => import("./pages/export.jsx") },
  { path: "/calibrations", title: "Calibrations", nav: true, load: () => import("./pages/calibrations.jsx") },
  { path: "/logs", title: "Logs", nav: true, load: () => import("./pages/logs.jsx") },
  { path: "/logs/:unit", title: "Logs", load: () => import("./pages/logs.jsx") },
  { path: "/config", title: "Config", nav: true, load: () => import("./pages/config.jsx") },
  { path: "/plugins", title: "Plugins", nav: true, load: () => import("./pages/plugins.jsx") },
  { path: "/inventory", title: "Inventory", nav: true, load: () => import("./pages/inventory.jsx") },
];
