"""The database refuses money that does not fit: no UPDATE may raise a period's spent or held
past its limit. Lowering the limit itself stays allowed (finance freezes a budget that way);
after it, only changes that give money back pass until the limit is raised again.

`apps.budgets.totals.BudgetTotals` asks the same question first, to refuse with a reason; this
trigger is what stops a path that forgot to ask.
"""

from django.db import migrations

FUNCTION_NAME = "budget_period_check_fit"
FUNCTION_BODY = r"""
BEGIN
    IF (NEW.spent_minor > OLD.spent_minor OR NEW.held_minor > OLD.held_minor)
       AND NEW.spent_minor + NEW.held_minor > NEW.limit_minor THEN
        RAISE EXCEPTION 'budget period % would hold % spent and % held over a limit of %',
            NEW.id, NEW.spent_minor, NEW.held_minor, NEW.limit_minor
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
"""

INSTALL = f"""
CREATE FUNCTION {FUNCTION_NAME}() RETURNS trigger LANGUAGE plpgsql AS $${FUNCTION_BODY}$$;

CREATE TRIGGER budget_period_fits_limit
    BEFORE UPDATE ON budgets_budgetperiod
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION_NAME}();
"""

REMOVE = f"""
DROP TRIGGER IF EXISTS budget_period_fits_limit ON budgets_budgetperiod;
DROP FUNCTION IF EXISTS {FUNCTION_NAME}();
"""


class Migration(migrations.Migration):
    dependencies = [("budgets", "0003_budgetperiod_held_minor_and_more")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
