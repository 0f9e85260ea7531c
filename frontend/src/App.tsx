import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createHashRouter, Outlet, RouterProvider } from "react-router";
import { ApiError } from "./api/client";
import { Layout } from "./components/Layout";
import { AuditPage } from "./features/audit/AuditPage";
import { CancelledPage } from "./features/cancelled/CancelledPage";
import { ConfirmPage } from "./features/confirm/ConfirmPage";
import { ImportPage } from "./features/import/ImportPage";
import { LaunchPage } from "./features/launch/LaunchPage";
import { MonitorPage } from "./features/monitor/MonitorPage";
import { TemporaryPage } from "./features/temporary/TemporaryPage";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // a 4xx will not change by asking again; network errors and 5xx are retried
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 3,
      refetchOnWindowFocus: true,
    },
  },
});

// Hash routes: the API serves index.html at "/" only, so every screen lives after "#"
// (`/#/imports/{id}` for the monitoring page) and works behind any proxy.
const router = createHashRouter([
  {
    element: (
      <Layout>
        <Outlet />
      </Layout>
    ),
    children: [
      { path: "/", element: <LaunchPage /> },
      { path: "/import", element: <ImportPage /> },
      { path: "/imports/:id", element: <MonitorPage /> },
      { path: "/imports/:id/confirm", element: <ConfirmPage /> },
      { path: "/imports/:id/cancelled", element: <CancelledPage /> },
      { path: "/temporary", element: <TemporaryPage /> },
      { path: "/audit", element: <AuditPage /> },
      { path: "*", element: <LaunchPage /> },
    ],
  },
]);

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
