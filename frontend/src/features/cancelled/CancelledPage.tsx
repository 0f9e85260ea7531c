import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useSessionContext } from "../../api/queries";
import { Notice } from "../../components/Notice";
import { isPatientLaunch } from "../../domain/patientLaunch";

export function CancelledPage() {
  const { t } = useTranslation();
  const heading = useRef<HTMLHeadingElement>(null);
  // launched for a patient without an order: another medium for the patient, not "this order"
  const forPatient = isPatientLaunch(useSessionContext().data?.order);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section className="card">
      <h1 ref={heading} tabIndex={-1}>
        {t("cancelled.title")}
      </h1>
      <Notice tone="success">
        <p>{t("cancelled.body")}</p>
        <p>
          <strong>{t("cancelled.close")}</strong>
        </p>
      </Notice>
      <p>
        <Link to="/import">{t(forPatient ? "patientLaunch.again" : "cancelled.again")}</Link>
      </p>
    </section>
  );
}
