/** The one TanStack Query client of the page (its cache is emptied when a launch link arrives). */
import { QueryClient } from "@tanstack/react-query";
import { ApiError } from "./client";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // a 4xx will not change by asking again; network errors and 5xx are retried
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 3,
      refetchOnWindowFocus: true,
    },
  },
});
