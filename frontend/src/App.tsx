import { QueryClientProvider } from "@tanstack/react-query";
import { createHashRouter, Outlet, RouterProvider } from "react-router";
import { queryClient } from "./api/queryClient";
import { Layout } from "./components/Layout";
import { AuditPage } from "./features/audit/AuditPage";
import { CancelledPage } from "./features/cancelled/CancelledPage";
import { ConfirmPage } from "./features/confirm/ConfirmPage";
import { ImportPage } from "./features/import/ImportPage";
import { LaunchPage } from "./features/launch/LaunchPage";
import { MonitorPage } from "./features/monitor/MonitorPage";
import { TemporaryPage } from "./features/temporary/TemporaryPage";

/**
 * Hash routes: the API serves index.html at "/" only, so every screen lives after "#"
 * (`/#/imports/{id}` for the monitoring page) and works behind any proxy. Made after the launch
 * token has left the address (`takeLaunchToken`), so the first screen of a launch is the launch.
 */
export function createAppRouter() {
  return createHashRouter([
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
}

export function App({ router }: { router: ReturnType<typeof createAppRouter> }) {
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
