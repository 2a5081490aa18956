import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Provider } from "urql";
import App from "./App";
import { makeClient } from "./api/client";
import { SessionProvider } from "./auth/session";
import { I18nProvider } from "./i18n";
import "./styles.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Provider value={makeClient()}>
      <I18nProvider>
        <SessionProvider>
          <App />
        </SessionProvider>
      </I18nProvider>
    </Provider>
  </StrictMode>,
);
