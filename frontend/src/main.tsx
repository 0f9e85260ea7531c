import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { reloadWhenSessionChanged, takeLaunchToken } from "./api/launch";
import { App, createAppRouter } from "./App";
import { setupI18n } from "./i18n";
import "./styles.css";

setupI18n();
// a launch link replaces whatever session this tab had, before anything is shown
takeLaunchToken();
reloadWhenSessionChanged();
const router = createAppRouter();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App router={router} />
  </StrictMode>,
);
