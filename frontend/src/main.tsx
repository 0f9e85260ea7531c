import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { reloadWhenSessionChanged, takeLaunchToken } from "./api/launch";
import { App, createAppRouter } from "./App";
import { setupI18n } from "./i18n";
import "./styles.css";

// a launch link replaces whatever session this tab had, before anything is shown
takeLaunchToken();
reloadWhenSessionChanged();
const router = createAppRouter();

// rendered once the user's language is loaded: never a first screen in another language
void setupI18n().then(() =>
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <App router={router} />
    </StrictMode>,
  ),
);
