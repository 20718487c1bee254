org_urlpatterns = []
public_urlpatterns = []
