import { QueryClientProvider } from "@tanstack/react-query";
import { createHashRouter, Outlet, RouterProvider } from "react-router";
import { queryClient } from "./api/queryClient";
import { Layout } from "./components/Layout";
import { ImportPage } from "./features/import/ImportPage";
import { LaunchPage } from "./features/launch/LaunchPage";

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
        // the screens after the first: each its own chunk, loaded when first shown
        { path: "/imports/:id", lazy: async () => ({ Component: (await import("./features/monitor/MonitorPage")).MonitorPage }) },
        { path: "/imports/:id/confirm", lazy: async () => ({ Component: (await import("./features/confirm/ConfirmPage")).ConfirmPage }) },
        { path: "/imports/:id/cancelled", lazy: async () => ({ Component: (await import("./features/cancelled/CancelledPage")).CancelledPage }) },
        { path: "/temporary", lazy: async () => ({ Component: (await import("./features/temporary/TemporaryPage")).TemporaryPage }) },
        { path: "/identities", lazy: async () => ({ Component: (await import("./features/identities/IdentitiesPage")).IdentitiesPage }) },
        { path: "/audit", lazy: async () => ({ Component: (await import("./features/audit/AuditPage")).AuditPage }) },
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
