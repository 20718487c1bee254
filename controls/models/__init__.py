from controls.models.library import ControlLibrary, ControlTemplate, ControlType, Frequency

__all__ = ["ControlLibrary", "ControlTemplate", "ControlType", "Frequency"]
