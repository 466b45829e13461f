"""Send analytics reads to a read replica when DATABASE_REPLICA_URL is configured."""


class AnalyticsReplicaRouter:
    replica_apps = {"analytics"}

    def db_for_read(self, model, **hints):
        if model._meta.app_label in self.replica_apps:
            return "replica"
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
