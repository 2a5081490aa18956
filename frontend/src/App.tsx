// Routes. Every page is its own chunk, so the first load carries only the frame and the page shown.
import { lazy, Suspense, type ComponentType } from "react";
import { createBrowserRouter, RouterProvider } from "react-router-dom";
import { Layout } from "./components/Layout";
import { Loading, NotFound } from "./components/Status";

function page(load: () => Promise<{ default: ComponentType }>) {
  const Page = lazy(load);
  return (
    <Suspense fallback={<Loading />}>
      <Page />
    </Suspense>
  );
}

export const routes = [
  { path: "/", element: page(() => import("./pages/public/Landing")) },
  { path: "/search", element: page(() => import("./pages/public/Search")) },
  { path: "/listings/:id", element: page(() => import("./pages/public/Listing")) },
  { path: "/signin", element: page(() => import("./pages/public/SignIn")) },
  { path: "/register", element: page(() => import("./pages/public/Register")) },
  { path: "/saved-searches", element: page(() => import("./pages/public/SavedSearches")) },
  { path: "/sell/new", element: page(() => import("./pages/seller/ListingWizard")) },
  { path: "/sell/listings", element: page(() => import("./pages/seller/MyListings")) },
  { path: "/sell/listings/:id/edit", element: page(() => import("./pages/seller/ListingWizard")) },
  { path: "/sell/inquiries", element: page(() => import("./pages/seller/Inquiries")) },
  { path: "/sell/listings/:id/buyers", element: page(() => import("./pages/seller/CandidateBuyers")) },
  { path: "/buy/demands", element: page(() => import("./pages/buyer/Demands")) },
  { path: "/buy/feed", element: page(() => import("./pages/buyer/Feed")) },
  { path: "/buy/bookmarks", element: page(() => import("./pages/buyer/Bookmarks")) },
  { path: "/deals", element: page(() => import("./pages/deal/Deals")) },
  { path: "/deals/:id", element: page(() => import("./pages/deal/DealPage")) },
  { path: "/broker", element: page(() => import("./pages/broker/BrokerDesk")) },
  { path: "*", element: <NotFound /> },
];

const router = createBrowserRouter([{ element: <Layout />, children: routes }]);

export default function App() {
  return <RouterProvider router={router} />;
}
