"""/api/v1/: every app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from controls.api.views import ControlTemplateViewSet
from criteria.api.views import CriterionViewSet, FrameworkViewSet

router = DefaultRouter(trailing_slash=True)
router.register("catalog/frameworks", FrameworkViewSet, basename="framework")
router.register("catalog/criteria", CriterionViewSet, basename="criterion")
router.register("catalog/templates", ControlTemplateViewSet, basename="template")

urlpatterns = router.urls
